"""Live updates (``/v1/sessions/{id}/live``): the session's events as server-sent events, in
order, resuming after a given stream version.

Each gateway replica has a queue of its own (exclusive, gone with the replica) bound to the
events of a session's own stream on the events exchange (``SESSION_STREAM_EVENTS``: not the
csrs' ledgers, numbers or settings); what arrives goes to the streams open for that session,
and what nobody here watches is dropped unread (issue 19: it was read whole before).
A stream subscribes first, then sends the session's history after the asked-for version, then
what arrives live, skipping what it sent and fetching the history again if it sees a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from uuid import UUID

import structlog

from service_runtime.brokers import Broker, Listening
from support_contracts import Envelope
from support_contracts.session import SESSION_STREAM_EVENTS

log = structlog.get_logger(__name__)

KEEP_ALIVE_SECONDS = 15.0
LIVE_EVENTS = [kind.routing_key() for kind in SESSION_STREAM_EVENTS]
History = Callable[[], Awaitable[list[dict[str, Any]]]]


class Feed:
    """Session events, as they arrive, to whoever watches that session in this process."""

    def __init__(self) -> None:
        self._streams: dict[UUID, set[asyncio.Queue[Envelope | None]]] = defaultdict(set)

    def wants(self, stream_id: str) -> bool:
        """Somebody here watches the session of ``stream_id``."""
        if not stream_id.startswith("session-"):
            return False
        try:
            return UUID(stream_id.removeprefix("session-")) in self._streams
        except ValueError:
            return False

    def deliver(self, envelope: Envelope) -> None:
        if not envelope.stream_id.startswith("session-"):
            return
        session_id = UUID(envelope.stream_id.removeprefix("session-"))
        for stream in self._streams.get(session_id, ()):
            stream.put_nowait(envelope)

    @contextlib.contextmanager
    def watch(self, session_id: UUID) -> Iterator[asyncio.Queue[Envelope | None]]:
        """The session's events as they arrive, while the block runs."""
        arrivals: asyncio.Queue[Envelope | None] = asyncio.Queue()
        self._streams[session_id].add(arrivals)
        try:
            yield arrivals
        finally:
            self._streams[session_id].discard(arrivals)
            if not self._streams[session_id]:
                del self._streams[session_id]

    async def stream(
        self,
        session_id: UUID,
        after: int,
        history: History,
        disconnected: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[str]:
        """Server-sent events of the session after version ``after``, until the session ends or
        the client goes."""
        with self.watch(session_id) as arrivals:
            async for sse in self._events(arrivals, after, history, disconnected):
                yield sse

    async def _events(
        self,
        arrivals: asyncio.Queue[Envelope | None],
        after: int,
        history: History,
        disconnected: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[str]:
        last = after
        pending = await history()
        while True:
            for event in pending:
                if event["stream_version"] > last:
                    last = event["stream_version"]
                    yield _sse(event)
                    if event["type"] == "SessionEnded":
                        return
            try:
                async with asyncio.timeout(KEEP_ALIVE_SECONDS):  # not wait_for: eventlog.turns
                    envelope = await arrivals.get()
            except TimeoutError:
                if await disconnected():
                    return
                yield ": still here\n\n"
                pending = []
                continue
            if envelope is None:
                return  # the gateway stops: the client reconnects with Last-Event-ID
            if envelope.stream_version > last + 1:
                pending = await history()  # one went missing: the log has it
            else:
                pending = [envelope.model_dump(mode="json")]

    def end_streams(self) -> None:
        """Every open stream ends; its client reconnects (to another replica) and resumes."""
        for streams in self._streams.values():
            for stream in streams:
                stream.put_nowait(None)


class LiveFeed(Feed):
    """The feed of a gateway replica: a listener of its own on the events exchange (over
    RabbitMQ, a queue declared again whenever the connection is opened again). What was
    published while it was away never reached the queue, so every open stream is ended when
    the connection goes: its client reconnects with ``Last-Event-ID`` and gets the missing
    events from the log."""

    def __init__(self, broker: Broker, queue_prefix: str) -> None:
        super().__init__()
        listening = Listening(
            queue_prefix, LIVE_EVENTS, self.deliver, self.end_streams, wants=self.wants
        )
        self._listener = broker.listener(listening)
        self.queue_name = self._listener.queue_name

    async def start(self) -> LiveFeed:
        await self._listener.start()  # the first time, a broker that does not answer is an error
        return self

    async def ready(self) -> None:
        await self._listener.ready()

    async def close(self) -> None:
        self.end_streams()
        await self._listener.close()


def _sse(event: dict[str, Any]) -> str:
    return f"id: {event['stream_version']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
