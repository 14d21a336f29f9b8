"""schemathesis against ``/openapi.json`` of the running gateway (with every service behind it):
every phase and every check, a new Idempotency-Key per request as a client sends
(``schemathesis_hooks.py``). The live stream is left out: it does not end."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from gateway.bootstrap import GatewayService

from .conftest import bearer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


# Statuses a request valid by the document may still get: 422 for the rules a schema cannot
# say (a queue's hours that close before they open, an active customer who is not a customer),
# besides what schemathesis expects anyway (401, 403, 404, 409, 429).
CONFIG = """
[auth.openapi.HTTPBearer]
bearer = "${TOKEN}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", 401, 403, 404, 409, 422, 429]
"""


async def test_e1_issue_14_13_every_phase_and_every_check_of_schemathesis_passes(
    gateway: GatewayService, tmp_path: Path
) -> None:
    """Examples, coverage, fuzzing and stateful (following the document's links), with every
    check: no 5xx, every answer as the document says, bad requests refused, auth enforced."""
    token = bearer("tester", "csr", "agent", "admin")["Authorization"].removeprefix("Bearer ")
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{gateway.url}/openapi.json",
        "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
        "--exclude-path-regex", "/live$",
        # one worker: CPython 3.11's ast state is shared by threads, and hypothesis parses
        # lambdas' source; two workers at once fail with "AST constructor recursion depth
        # mismatch" (python/cpython#106905)
        "--max-examples", "12", "--workers", "1", "--seed", "1", "--no-color",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path,
        env={**os.environ, "TOKEN": token, "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
             "PYTHONPATH": str(Path(__file__).parent)},
    )  # fmt: skip
    output, _ = await process.communicate()
    report = output.decode()
    (tmp_path / "report.txt").write_text(report)
    assert process.returncode == 0, report[-8000:]
    assert "No issues found" in report or " passed" in report, report[-3000:]
