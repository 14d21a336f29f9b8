"""Live updates (``/v1/sessions/{id}/live``): the session's events as server-sent events, in
order, resuming after a given stream version.

Each gateway replica has a queue of its own (exclusive, gone with the replica) bound to
``session.#`` on the events exchange; what arrives goes to the streams open for that session.
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
from uuid import UUID, uuid4

import aio_pika
import structlog
from aio_pika.abc import AbstractConnection, AbstractIncomingMessage

from support_contracts import Envelope

log = structlog.get_logger(__name__)

KEEP_ALIVE_SECONDS = 15.0
History = Callable[[], Awaitable[list[dict[str, Any]]]]


class Feed:
    """Session events, as they arrive, to whoever watches that session in this process."""

    def __init__(self) -> None:
        self._streams: dict[UUID, set[asyncio.Queue[Envelope | None]]] = defaultdict(set)

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
                envelope = await asyncio.wait_for(arrivals.get(), KEEP_ALIVE_SECONDS)
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
    """The feed of a gateway replica: a queue of its own on the events exchange, declared
    again whenever the connection to the broker is opened again (a broker restart). What was
    published while it was away never reached the queue, so every open stream is ended when
    the connection goes: its client reconnects with ``Last-Event-ID`` and gets the missing
    events from the log."""

    def __init__(
        self, amqp_url: str, exchange: str, queue_prefix: str, *, retry_seconds: float = 1.0
    ) -> None:
        super().__init__()
        self._url, self._exchange, self._retry = amqp_url, exchange, retry_seconds
        self.queue_name = f"{queue_prefix}.{uuid4().hex[:12]}"
        self._connection: AbstractConnection | None = None
        self._keeping: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    async def start(self) -> LiveFeed:
        await self._subscribe()  # the first time, a broker that does not answer is an error
        self._keeping = asyncio.create_task(self._keep(), name="live:keep")
        return self

    @property
    def connected(self) -> bool:
        return self._connection is not None and not self._lost.is_set()

    async def ready(self) -> None:
        if not self.connected:
            raise RuntimeError("the live feed has no connection to the broker")

    async def _subscribe(self) -> None:
        connection = await aio_pika.connect(self._url)
        try:
            channel = await connection.channel()
            exchange = await channel.declare_exchange(
                self._exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = await channel.declare_queue(self.queue_name, exclusive=True, auto_delete=True)
            await queue.bind(exchange, "session.#")
            await queue.consume(self._on_message, no_ack=True)
        except BaseException:
            await connection.close()
            raise
        self._lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: self._lost.set())
        self._connection = connection

    async def _keep(self) -> None:
        while True:
            if self._connection is not None:
                await self._lost.wait()
                log.warning("live.connection_lost", queue=self.queue_name)
                self.end_streams()
                with contextlib.suppress(Exception):
                    await self._connection.close()
                self._connection = None
            try:
                await self._subscribe()
                log.info("live.subscribed_again", queue=self.queue_name)
            except Exception as error:
                log.warning("live.subscribe_failed", error=repr(error))
                await asyncio.sleep(self._retry)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = Envelope.model_validate_json(message.body)
        except ValueError:
            log.warning("live.unreadable_event", routing_key=message.routing_key)
            return
        self.deliver(envelope)

    async def close(self) -> None:
        self.end_streams()
        if self._keeping is not None:
            self._keeping.cancel()
            await asyncio.gather(self._keeping, return_exceptions=True)
        if self._connection is not None:
            await self._connection.close()


def _sse(event: dict[str, Any]) -> str:
    return f"id: {event['stream_version']}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
