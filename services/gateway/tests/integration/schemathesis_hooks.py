"""What a real client does that generated requests do not: a new ``Idempotency-Key`` for every
new request. Generated keys repeat across requests ("0" again and again), and a key used again
with another body is refused (422 ``key_reused``), as it should be; here each request is new."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import schemathesis


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = str(uuid4())
