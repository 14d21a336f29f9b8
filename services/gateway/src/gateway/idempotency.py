"""``Idempotency-Key`` on POST and PUT: a retried request with the same key gets the first
answer, and what it asked for is done once.

Each key (with who the caller is, so two callers' keys never meet; the verified caller, not
the token, so a retry with a refreshed token is the same request: issue 14.6) is a stream
``idempotency-<sha256>`` of the gateway's own log:

- ``RequestStarted`` claims the key: appended with the version the stream had, so of two
  requests with one key at the same moment one claims it and the other is told 409;
- ``RequestAnswered`` keeps the answer (status, body) for a retry, which gets it back as it was
  (a retry with another body gets 422: the key was used for something else);
- ``RequestAbandoned`` when no answer came (a service did not answer: 503): the outcome is not
  known, and a retry may run it again. A claim older than ``stale_seconds`` with no answer (the
  gateway died) counts as abandoned.

The commands a keyed request sends have ids derived from the key (``RequestKey``), so a run
after an abandoned or stale claim sends the same commands again and the services, which apply
each command once, answer it without doing it twice.

A key is good for ``ttl_seconds`` (a day): after that the same key is a new request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4, uuid5

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from eventlog import NO_STREAM, ConcurrencyConflict, EventStore, NewEvent
from gateway.asgi import read_body, replaying
from gateway.calls import REQUEST_KEY, RequestKey

log = structlog.get_logger(__name__)

HEADER = b"idempotency-key"
KEYS = UUID("0b6f2b1e-5d3a-4c1a-9a57-3f1d1c0e7a42")  # the namespace of request keys' ids


def _new(kind: str, data: dict[str, Any], now: datetime) -> NewEvent:
    ids = uuid4()
    return NewEvent(kind, data, ids, now, ids, ids)


class Idempotency:
    def __init__(
        self,
        app: ASGIApp,
        store: EventStore,
        *,
        stale_seconds: float = 60.0,
        ttl_seconds: float = 24 * 3600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        who: Callable[[bytes], Awaitable[bytes]] | None = None,
    ) -> None:
        """``who``: whose key it is, from the ``Authorization`` header (the verified caller:
        ``Identity.key_of``); without it, the header as it is."""
        self.app, self.store, self.stale = app, store, timedelta(seconds=stale_seconds)
        self.ttl, self._clock = timedelta(seconds=ttl_seconds), clock
        self._who = who

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        key = headers.get(HEADER)
        if key is None or scope["method"] not in ("POST", "PUT"):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        caller = headers.get(b"authorization", b"")
        if self._who is not None:
            caller = await self._who(caller)
        stream = "idempotency-" + hashlib.sha256(caller + b"\0" + key).hexdigest()
        fingerprint = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\0" + body
        ).hexdigest()
        past = await self.store.read_stream(stream)
        now = self._clock()
        last = past[-1] if past else None
        expired = (
            last is not None and last.type != "RequestStarted" and now - last.occurred_at > self.ttl
        )
        if last is not None and not expired and last.data["fingerprint"] != fingerprint:
            await _answer(
                send, 422, _error("key_reused", "this Idempotency-Key was used for another request")
            )
            return
        if last is not None and not expired and last.type == "RequestAnswered":
            await _answer(send, int(last.data["status"]), last.data["body"].encode(), replayed=True)
            return
        if (
            last is not None
            and last.type == "RequestStarted"
            and now - last.occurred_at < self.stale
        ):
            await _answer(send, 409, _error("in_progress", "a request with this key is running"))
            return
        version = last.stream_version if last is not None else NO_STREAM
        claim = _new("RequestStarted", {"fingerprint": fingerprint}, now)
        try:
            await self.store.append(stream, [claim], version)
        except ConcurrencyConflict:
            await _answer(send, 409, _error("in_progress", "a request with this key is running"))
            return
        keyed = REQUEST_KEY.set(RequestKey(uuid5(KEYS, stream)))
        try:
            status, chunks = await self._run(scope, body, send)
        except BaseException:  # no answer to keep: close the claim, so a retry may run it
            abandoned = {"fingerprint": fingerprint, "status": 503}
            with contextlib.suppress(Exception):
                await self.store.append(
                    stream, [_new("RequestAbandoned", abandoned, self._clock())], version + 1
                )
            raise
        finally:
            REQUEST_KEY.reset(keyed)
        outcome = {"fingerprint": fingerprint, "status": status}
        if status >= 500:
            done = _new("RequestAbandoned", outcome, self._clock())
        else:
            answer = {**outcome, "body": b"".join(chunks).decode()}
            done = _new("RequestAnswered", answer, self._clock())
        await self.store.append(stream, [done], version + 1)

    async def _run(self, scope: Scope, body: bytes, send: Send) -> tuple[int, list[bytes]]:
        """The request as if nothing happened, its response passed on and kept."""
        status, chunks = 500, []

        async def keep(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
            await send(message)

        await self.app(scope, replaying(body), keep)
        return status, chunks


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


async def _answer(send: Send, status: int, body: bytes, *, replayed: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
