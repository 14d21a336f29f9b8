"""What a service's messages go through, as one object a service is started with
(``bootstrap.start(settings, broker=...)``): RabbitMQ in every deployment, or memory for the
embedded demo and fast tests. Each gives the same parts: the topology declared, a publisher of
events (with confirms), a consumer feeding a queue to an inbox, a command server and a client
(request/reply), a probe for readiness, and a listener (a queue of one process's own, gone with
it: the gateway's live updates)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import uuid4

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

from eventlog import EventPublisher, Inbox, InMemoryBroker
from eventlog.rabbit import (
    RabbitEventConsumer,
    RabbitPublisher,
    declare_events_exchange,
    declare_topology,
)
from support_contracts import Envelope
from support_contracts.topology import Subscription, Topology
from support_rpc import RpcClient, RpcServer
from support_rpc.amqp import Amqp, Connect, SharedConnection
from support_rpc.client import Caller
from support_rpc.memory import MemoryRpc
from support_rpc.server import Handler

log = structlog.get_logger(__name__)


class Part(Protocol):
    """What takes work in (a consumer, a command server): ready when it does."""

    @property
    def queue_name(self) -> str: ...

    async def ready(self) -> None: ...

    async def stop(self) -> None: ...


class Consumer(Part, Protocol):
    async def start(self) -> None: ...


class Server(Part, Protocol):
    answered: int

    async def start(self) -> Server: ...


Client = Caller  # request/reply to the services: over RabbitMQ or in one process


class Publisher(EventPublisher, Protocol):
    async def close(self) -> None: ...


class Probe(Protocol):
    async def __call__(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Listening:
    """What a listener is for: a queue of this process's own on the events exchange (named
    after ``queue_prefix``), bound to ``routing_keys``, each event handed to ``deliver``; with
    ``wants``, only those of the streams it wants (asked of the message's ``stream_id`` header,
    before it is read). ``lost`` is called when what was published meanwhile may be missed (the
    connection went), before it listens again."""

    queue_prefix: str
    routing_keys: Sequence[str]
    deliver: Callable[[Envelope], None]
    lost: Callable[[], None]
    wants: Callable[[str], bool] | None = None

    def queue_name(self) -> str:
        return f"{self.queue_prefix}.{uuid4().hex[:12]}"


class Listener(Protocol):
    """A listener started for a :class:`Listening`."""

    queue_name: str

    async def start(self) -> None: ...

    async def ready(self) -> None: ...

    async def close(self) -> None: ...


class Broker(Protocol):
    async def declare(self, topology: Topology) -> None: ...

    def publisher(self) -> Publisher: ...

    def consumer(self, subscription: Subscription, inbox: Inbox) -> Consumer: ...

    def server(self, queue: str, handler: Handler) -> Server: ...

    def client(self) -> Client: ...

    def probe(self) -> Probe: ...

    def listener(self, listening: Listening) -> Listener: ...

    async def close(self) -> None:
        """After every part made by it has stopped."""


class RabbitBroker:
    """Every part on one connection of the process's (issue 15.8), each with channels of its
    own; the connection is named ``name`` in the broker's list of connections, and opened again
    ``retry_seconds`` apart while the broker is away."""

    def __init__(
        self, url: str, exchange: str, *, retry_seconds: float = 1.0, name: str = ""
    ) -> None:
        self.url, self.exchange = url, exchange
        self.connection = SharedConnection(url, name=name, reconnect_seconds=retry_seconds)

    async def declare(self, topology: Topology) -> None:
        await declare_topology(self.connection, topology)  # issue 14.11

    def publisher(self) -> RabbitPublisher:
        return RabbitPublisher(self.connection, self.exchange)

    def consumer(self, subscription: Subscription, inbox: Inbox) -> RabbitEventConsumer:
        return RabbitEventConsumer(
            self.connection,
            subscription.queue,
            subscription.routing_keys,
            inbox,
            exchange=self.exchange,
            single_active=subscription.single_active,
        )

    def server(self, queue: str, handler: Handler) -> RpcServer:
        return RpcServer(self.connection, queue, handler)

    def client(self) -> RpcClient:
        return RpcClient(self.connection)

    def probe(self) -> BrokerProbe:
        return BrokerProbe(self.connection)

    def listener(self, listening: Listening) -> RabbitListener:
        return RabbitListener(self, listening)

    async def close(self) -> None:
        await self.connection.close()


class BrokerProbe:
    """RabbitMQ answers: the connection is up, and a channel opens and closes on it."""

    def __init__(self, connection: Connect) -> None:
        self._connection = connection

    async def __call__(self) -> None:
        connection = await self._connection()
        if not connection.connected.is_set():
            raise RuntimeError("no connection to the broker")
        channel = await connection.channel()
        await channel.close()

    async def close(self) -> None:
        return None  # the connection is the broker's


class RabbitListener:
    """An exclusive queue on the process's connection. When the connection goes, what is
    published meanwhile never reaches the queue, so ``lost`` is called at once; the connection
    comes back by itself, and the queue, its bindings and its consumer with it."""

    def __init__(self, broker: RabbitBroker, listening: Listening) -> None:
        self._broker, self._listening = broker, listening
        self.queue_name = listening.queue_name()
        self._amqp = Amqp(broker.connection)
        self._channel: AbstractChannel | None = None

    async def start(self) -> None:
        """The first time, a broker that does not answer is an error."""
        connection = await self._amqp.open()
        self._channel = channel = await connection.channel()
        exchange = await declare_events_exchange(channel, self._broker.exchange)
        queue = await channel.declare_queue(self.queue_name, exclusive=True, auto_delete=True)
        for key in self._listening.routing_keys:
            await queue.bind(exchange, key)
        await queue.consume(self._on_message, no_ack=True)
        connection.close_callbacks.add(self._on_lost)

    def _on_lost(self, *_: Any) -> None:
        log.warning("listener.connection_lost", queue=self.queue_name)
        self._listening.lost()

    async def ready(self) -> None:
        """Raises unless its queue is bound and consumed (again, after a loss)."""
        if not await self._amqp.ready(self._channel):
            raise RuntimeError(f"{self.queue_name}: no connection to the broker")

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        stream = (message.headers or {}).get("stream_id")
        wants = self._listening.wants
        if wants is not None and isinstance(stream, str) and not wants(stream):
            return  # nobody here wants it: not even read (issue 19)
        try:
            envelope = Envelope.model_validate_json(message.body)
        except ValueError:
            log.warning("listener.unreadable_event", routing_key=message.routing_key)
            return
        self._listening.deliver(envelope)

    async def close(self) -> None:
        if self._amqp.connection is not None:
            with contextlib.suppress(RuntimeError):  # frozen while the connection closes
                self._amqp.connection.close_callbacks.discard(self._on_lost)
        await self._amqp.close(self._channel)  # the connection is the broker's
        self._channel = None


class MemoryBroker:
    """Every service of one process on one in-memory exchange and set of command queues."""

    def __init__(self) -> None:
        self.events = InMemoryBroker()
        self.rpc = MemoryRpc()

    async def declare(self, topology: Topology) -> None:
        for subscription in topology.subscriptions:  # queues exist before anything is published
            self.events.declare_queue(subscription.queue, subscription.routing_keys)

    def publisher(self) -> _MemoryPublisher:
        return _MemoryPublisher(self.events)

    def consumer(self, subscription: Subscription, inbox: Inbox) -> _MemoryConsumer:
        return _MemoryConsumer(self.events, subscription, inbox)

    def server(self, queue: str, handler: Handler) -> Server:
        return self.rpc.server(queue, handler)

    def client(self) -> Client:
        return self.rpc.client()

    def probe(self) -> _Answers:
        return _Answers()

    def listener(self, listening: Listening) -> _MemoryListener:
        return _MemoryListener(self.events, listening)  # in memory, every event is read already

    async def close(self) -> None:
        return None


class _MemoryPublisher:
    def __init__(self, events: InMemoryBroker) -> None:
        self._events = events

    async def publish(self, events: Sequence[Envelope]) -> None:
        await self._events.publish(events)

    async def close(self) -> None:
        return None


class _Answers:
    async def __call__(self) -> None:
        return None

    async def close(self) -> None:
        return None


class _Running:
    """A part that is one task while it runs."""

    _task: asyncio.Task[None] | None = None

    def _run(self, work: Callable[[], Any], name: str) -> None:
        self._task = asyncio.create_task(work(), name=name)

    async def _end(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None


class _MemoryConsumer(_Running):
    def __init__(self, events: InMemoryBroker, subscription: Subscription, inbox: Inbox) -> None:
        self._events, self._subscription, self._inbox = events, subscription, inbox
        self.queue_name = subscription.queue

    async def start(self) -> None:
        keys = list(self._subscription.routing_keys)
        self._run(lambda: self._events.consume(self.queue_name, keys, self._inbox), self.queue_name)

    async def ready(self) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError(f"{self.queue_name}: not consuming")
        if self._inbox.waiting_out:
            raise RuntimeError(f"{self.queue_name}: waiting out an outage")

    async def stop(self) -> None:
        await self._end()


class _MemoryListener(_Running):
    def __init__(self, events: InMemoryBroker, listening: Listening) -> None:
        self._events, self.queue_name = events, listening.queue_name()
        self._keys, self._deliver = list(listening.routing_keys), listening.deliver

    async def start(self) -> None:
        self._events.declare_queue(self.queue_name, self._keys)
        self._run(
            lambda: self._listen(self._events.subscribe(self.queue_name, self._keys)),
            self.queue_name,
        )

    async def _listen(self, events: AsyncIterator[Envelope]) -> None:
        async for event in events:
            self._deliver(event)

    async def ready(self) -> None:
        if self._task is None or self._task.done():
            raise RuntimeError(f"{self.queue_name}: not listening")

    async def close(self) -> None:
        await self._end()
        self._events.delete_queue(self.queue_name)
