"""``Idempotency-Key`` on POST and PUT: a retried request with the same key gets the first
answer, and what it asked for is done once.

Each key (with who the caller is, so two callers' keys never meet; the verified caller, not
the token, so a retry with a refreshed token is the same request: issue 14.6) is a stream
``idempotency-<sha256>`` of the gateway's own log:

- ``RequestStarted`` claims the key: appended with the version the stream had, so of two
  requests with one key at the same moment one claims it and the other is told 409;
- ``RequestAnswered`` keeps the answer (status, body) for a retry, which gets it back as it was
  (a retry with another body gets 422: the key was used for something else); the answer is
  recorded before it is sent, so a retry on its heels is not told 409;
- ``RequestAbandoned`` when no answer came (a service did not answer: 503): the outcome is not
  known, and a retry may run it again. A claim older than ``stale_seconds`` with no answer (the
  gateway died) counts as abandoned.

The commands a keyed request sends have ids derived from the key (``RequestKey``), so a run
after an abandoned or stale claim sends the same commands again and the services, which apply
each command once, answer it without doing it twice.

The claim is the log's write recipe (``eventlog.write``) on the key's stream; the outcome is
appended after it at the claim's version.

A key is good for ``ttl_seconds`` (a day): after that the same key is a new request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid5

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from eventlog import ConcurrencyConflict, EventStore, NewEvent, Stream, utc_now, write
from eventlog.model import SystemCause
from eventlog.writing import History
from gateway.asgi import read_body, replaying
from gateway.calls import REQUEST_KEY, RequestKey
from support_contracts import Event

log = structlog.get_logger(__name__)

HEADER = b"idempotency-key"
KEYS = UUID("0b6f2b1e-5d3a-4c1a-9a57-3f1d1c0e7a42")  # the namespace of request keys' ids


REUSED = json.dumps(
    {
        "error": {
            "code": "key_reused",
            "message": "this Idempotency-Key was used for another request",
        }
    }
).encode()
IN_PROGRESS = json.dumps(
    {"error": {"code": "in_progress", "message": "a request with this key is running"}}
).encode()


class RequestStarted(Event):
    """A request with this key is running (the claim)."""

    context: ClassVar[str] = "gateway"
    fingerprint: str


class RequestAnswered(Event):
    """Its answer, kept for a retry."""

    context: ClassVar[str] = "gateway"
    fingerprint: str
    status: int
    body: str


class RequestAbandoned(Event):
    """No answer came (a service did not answer): a retry may run it again."""

    context: ClassVar[str] = "gateway"
    fingerprint: str
    status: int


class _Known(Exception):
    """What the key's stream already answers, instead of running the request."""

    def __init__(self, status: int, body: bytes, *, replayed: bool = False) -> None:
        self.status, self.body, self.replayed = status, body, replayed


class Idempotency:
    def __init__(
        self,
        app: ASGIApp,
        store: EventStore,
        *,
        stale_seconds: float = 60.0,
        ttl_seconds: float = 24 * 3600.0,
        clock: Callable[[], datetime] = utc_now,
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
        claims, request = Stream(stream, History), uuid5(KEYS, stream)
        cause = SystemCause(command_id=request, correlation_id=request)

        def claim(k: History) -> list[Event]:
            return self._claim(k, fingerprint)

        try:
            claimed = await write(self.store, claims, claim, cause, clock=self._clock)
        except _Known as known:
            await _answer(send, known.status, known.body, replayed=known.replayed)
            return
        except ConcurrencyConflict:
            await _answer(send, 409, IN_PROGRESS)
            return
        version = claimed.before.version + 1  # the claim's

        async def close(done: Event) -> None:
            """The outcome, appended right after the claim (one statement: the append checks
            that nothing came between; a claim someone took over is theirs)."""
            try:
                await self.store.append(
                    stream, NewEvent.caused([done], cause, self._clock()), version
                )
            except ConcurrencyConflict:
                log.warning("idempotency.claim_taken_over", stream=stream)

        keyed = REQUEST_KEY.set(RequestKey(request))
        try:
            status, messages = await self._run(scope, body)
        except BaseException:  # no answer to keep: close the claim, so a retry may run it
            with contextlib.suppress(Exception):
                await close(RequestAbandoned(fingerprint=fingerprint, status=503))
            raise
        finally:
            REQUEST_KEY.reset(keyed)
        try:  # the answer is recorded before it is sent: a retry on its heels gets it back
            if status >= 500:
                await close(RequestAbandoned(fingerprint=fingerprint, status=status))
            else:
                answer = b"".join(m.get("body", b"") for m in messages).decode()
                await close(RequestAnswered(fingerprint=fingerprint, status=status, body=answer))
        finally:  # sent even when the log failed: it was done (a retry runs the same commands)
            for message in messages:
                await send(message)

    def _claim(self, k: History, fingerprint: str) -> list[Event]:
        """The claim of the key, or what its stream already answers (``_Known``): a key used
        for another request, the answer kept, or a request still running."""
        now, last = self._clock(), k.last
        if last is None:
            return [RequestStarted(fingerprint=fingerprint)]
        age = now - last.occurred_at
        if last.type == "RequestStarted" or age <= self.ttl:  # not expired
            if last.data["fingerprint"] != fingerprint:
                raise _Known(422, REUSED)
            if last.type == "RequestAnswered":
                raise _Known(int(last.data["status"]), last.data["body"].encode(), replayed=True)
            if last.type == "RequestStarted" and age < self.stale:
                raise _Known(409, IN_PROGRESS)
        return [RequestStarted(fingerprint=fingerprint)]

    async def _run(self, scope: Scope, body: bytes) -> tuple[int, list[MutableMapping[str, Any]]]:
        """The request as if nothing happened, its response kept to be sent."""
        status, messages = 500, []

        async def keep(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            messages.append(message)

        await self.app(scope, replaying(body), keep)
        return status, messages


async def _answer(send: Send, status: int, body: bytes, *, replayed: bool = False) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
