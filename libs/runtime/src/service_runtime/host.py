"""The composition root every service is started with (issue 15.1). A service's
``bootstrap.start(settings, **given)`` (``given``: :class:`Given`, the store and the broker a test
or the embedded demo gives instead of the real ones) opens a :class:`Host` and declares on
it only what is its own: its consumers and command server, its leader-only and background
work, its readiness checks and gauges. The host owns the rest, in order: the topology
declared, the event store (PostgreSQL unless one is given), the outbox relay and its publisher,
the inbox records forgotten after ``inbox_keep``, the probe of the broker, and the stop: no new
work first (what is unacknowledged goes back to its queue), then the background work, then
what it used, the store last. Processes, the embedded demo and fast tests all start a service
the same way; only the store and the broker they give differ."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypedDict, TypeVar, Unpack

import structlog
from prometheus_client import Gauge
from pydantic import BaseModel

from eventlog import ConcurrencyConflict, EventStore, Inbox, OutboxRelay, turns
from eventlog.inbox import Handler as EventHandler
from eventlog.inbox import forgetting
from eventlog.outages import is_outage
from eventlog.postgres import PostgresEventStore
from service_runtime.brokers import Broker, Client, RabbitBroker, Server
from service_runtime.ops import Readiness, Refresh
from service_runtime.settings import ServiceSettings
from support_contracts import Command, Envelope
from support_contracts.topology import Subscription
from support_rpc import Call
from support_rpc.door import table_door
from support_rpc.server import Handler

S = TypeVar("S")


class Given(TypedDict, total=False):
    """What a service's ``start`` may be given instead of what it opens itself: the embedded
    demo and the fast tests give the in-memory store and broker."""

    store: EventStore | None
    broker: Broker | None


log = structlog.get_logger(__name__)

# the background work is cancelled at the stop, and again each second while it has not ended:
# a cancellation lost once (eventlog.turns) must not keep the process from stopping
STOP_AGAIN_SECONDS = 1.0

OUTBOX_LAG = Gauge("support_outbox_lag_events", "Events recorded and not yet published", ["log"])


class Stoppable(Protocol):
    async def stop(self) -> None: ...


class Closable(Protocol):
    async def close(self) -> None: ...


class Host:
    def __init__(
        self,
        name: str,
        settings: ServiceSettings,
        store: EventStore,
        broker: Broker,
        *,
        owns_store: bool,
        owns_broker: bool,
    ) -> None:
        self.name, self.settings, self.store, self.broker = name, settings, store, broker
        self._owns_store, self._owns_broker = owns_store, owns_broker
        self._doors: list[Stoppable] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._resources: list[Closable] = []
        self._forgetting = False
        self._client: Client | None = None
        probe = broker.probe()
        self._resources.append(probe)
        self.readiness = [Readiness("database", store.ready), Readiness("broker", probe)]
        self.refresh: list[Refresh] = []
        self.stopped = False

    @classmethod
    async def open(
        cls,
        name: str,
        settings: ServiceSettings,
        **given: Unpack[Given],
    ) -> Host:
        """The topology declared on ``broker`` (RabbitMQ at ``AMQP_URL`` unless given: one
        connection for the process, named after the service), and ``store`` (the service's
        schema on PostgreSQL at ``DATABASE_URL`` unless given); each closed at the stop only
        when opened here."""
        store, broker = given.get("store"), given.get("broker")
        owns_broker, owns_store = broker is None, store is None
        broker = broker or RabbitBroker(settings.amqp_url, settings.exchange, name=name)
        try:
            await broker.declare(settings.topology())  # issue 14.11
            if store is None:
                store = await PostgresEventStore.connect(
                    settings.database_url,
                    settings.database_schema,
                    max_size=settings.pool_size,
                )
        except BaseException:
            if owns_broker:  # nothing is left open by a start that failed
                await broker.close()
            raise
        return cls(name, settings, store, broker, owns_store=owns_store, owns_broker=owns_broker)

    async def consume(
        self,
        queue: str,
        routing_keys: Sequence[str],
        handler: EventHandler,
        *,
        single_active: bool = False,
        record_in_append: bool = False,
        look_first: frozenset[str] = frozenset(),
    ) -> None:
        """``queue``'s events fed to ``handler`` through this service's inbox (each handled
        once, in the transaction of what it does; with ``record_in_append``, recorded by the
        handler's one append; those of the types in ``look_first`` first given to it with
        writes refused, and handled so when it writes nothing: ``eventlog.inbox``)."""
        inbox = Inbox(
            self.store,
            self.name,
            handler,
            record_in_append=record_in_append,
            look_first=look_first,
        )
        consumer = self.broker.consumer(
            Subscription(queue, tuple(routing_keys), single_active), inbox
        )
        await consumer.start()
        self._took_in(consumer, consumer.queue_name, consumer.ready)

    async def serve_table(
        self,
        queue: str,
        table: Mapping[type[Command], Callable[[S, Any], Awaitable[BaseModel]]],
        state: S,
    ) -> Server:
        """The command server of ``queue`` for the service's handler table: a conflict left
        after the recipe's retries is a 409, an outage of the database or the broker a 503."""
        door = table_door(
            self.name, table, state, conflicts=(ConcurrencyConflict,), outages=is_outage
        )
        return await self.serve(queue, door)

    async def serve(self, queue: str, handler: Handler) -> Server:
        """The command server of ``queue``, started."""
        server = await self.broker.server(queue, handler).start()
        self._took_in(server, server.queue_name, server.ready)
        return server

    async def client(self) -> Client:
        """Request/reply to the other services (one client for the service), closed at the
        stop."""
        if self._client is None:
            self._client = await self.broker.client().connect()
            self._resources.insert(0, self._client)
        return self._client

    async def calls(self, queue: str) -> Call:
        """Commands to the service behind ``queue``: its reply, or its refusal raised."""
        client = await self.client()

        async def call(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
            return await client.call(queue, command_type, command)

        return call

    def relay(self, *, publishes: Callable[[Envelope], bool] | None = None) -> OutboxRelay:
        """The outbox relay, run in one replica at a time; its lag is a gauge."""
        publisher = self.broker.publisher()
        self._resources.insert(0, publisher)
        relay = OutboxRelay(self.store, publisher, publishes=publishes)
        self.run(relay.run(), "outbox relay")
        self.refresh.append(self._outbox_lag)
        return relay

    def run(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        """Background work until the stop (leader-only work leads inside it)."""
        self._tasks.append(asyncio.create_task(work, name=f"{self.name}: {name}"))

    def door(self, door: Stoppable) -> None:
        """Where work comes in that the host did not start (a WebSocket or HTTP server): it
        stops first."""
        self._doors.append(door)

    def uses(self, resource: Closable) -> None:
        """Closed at the stop, before the store."""
        self._resources.insert(0, resource)

    def check(self, name: str, check: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.readiness.append(Readiness(name, check))

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        """Its readiness checks, and the gauges to refresh before a scrape."""
        return self.readiness, self.refresh

    async def stop(self) -> None:
        """No new work first, then the background work, then what it used. Stopping again
        does nothing."""
        if self.stopped:
            return
        self.stopped = True
        for door in self._doors:
            await door.stop()
        await turns.stop(*self._tasks, again_seconds=STOP_AGAIN_SECONDS)
        for resource in self._resources:
            await resource.close()
        if self._owns_broker:
            await self.broker.close()
        if self._owns_store:
            await self.store.close()
        log.info(f"{self._event}.stopped")

    def started(self, **fields: Any) -> None:
        log.info(f"{self._event}.started", schema=self.settings.database_schema, **fields)

    @property
    def _event(self) -> str:
        return self.name.replace("-", "_")

    def _took_in(
        self, door: Stoppable, name: str, ready: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        self._doors.append(door)
        self.readiness.append(Readiness(name, ready))
        if not self._forgetting:  # what the inbox recorded (events, commands) kept for a while
            self._forgetting = True
            self.run(forgetting(self.store, keep=self.settings.inbox_keep), "inbox forgetting")

    async def _outbox_lag(self) -> None:
        head, published = await self.store.head(), await self.store.load_checkpoint("outbox")
        OUTBOX_LAG.labels(self.settings.database_schema).set(max(0, head - published))


SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


@dataclass
class Hosted(Generic[SettingsT]):
    """A started service: its settings, its host, and what it stops and reports through it
    (a service's own dataclass adds what it started)."""

    settings: SettingsT
    host: Host

    @property
    def store(self) -> EventStore:
        return self.host.store

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        return self.host.ops()

    async def stop(self) -> None:
        await self.host.stop()


class ServerOnPort(Protocol):
    @property
    def port(self) -> int: ...


class Served(Hosted[SettingsT]):
    """A started service that listens on a port of its own (the gateway, the relay)."""

    server: ServerOnPort

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
