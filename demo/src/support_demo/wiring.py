"""Where the demo runs; either way it talks to the gateway's HTTP API and the relay's WebSocket.

Real (``AMQP_URL``/``DATABASE_URL`` set, or RabbitMQ and PostgreSQL answering on the default
ports): every service started as its own process (``stack.py``) on schemas of the demo's own,
dropped afterwards, with the events on ``support.events``. Embedded (nothing answers, or
``DEMO_MODE=embedded``): every service in this process, each on its own in-memory log, their
outbox relays and inboxes on an in-memory broker; the gateway's app called in-process, the
relay on a loopback port."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import aio_pika
import asyncpg
import httpx

from eventlog import Inbox, InMemoryBroker, InMemoryEventStore, OutboxRelay
from gateway.app import Gateway, create_app
from gateway.calls import Doors
from gateway.idempotency import Idempotency
from gateway.identity import Identity
from gateway.live import Feed
from gateway.settings import Settings as GatewaySettings
from invite_svc.entrypoints import SESSION_EVENTS, session_event_handler
from invite_svc.entrypoints import command_handler as invite_door
from invite_svc.handlers import InviteHandlers
from invite_svc.sessions import SessionDirectory
from media_relay.hub import Hub
from media_relay.journal import (
    RecordingLog,
    follow_log,
    history,
    keep_session_event,
    publishes,
    snapshots,
)
from media_relay.recording import RecordingStorage
from media_relay.server import RelayServer
from media_relay.view import RelayView
from routing_svc.entrypoints import command_handler as routing_door
from routing_svc.entrypoints import session_event_handler as routing_intake
from routing_svc.handlers import SESSION_EVENTS as ROUTING_FOLLOWS
from routing_svc.handlers import RoutingHandlers
from routing_svc.router import Router
from routing_svc.service import Routing
from routing_svc.view import RoutingView
from session_svc.entrypoints import ROUTING_EVENTS, routing_event_handler
from session_svc.entrypoints import command_handler as session_door
from session_svc.handlers import SessionHandlers
from support_contracts import EXCHANGE, Envelope
from support_contracts.session import SESSION_EVENTS as ALL_SESSION_EVENTS
from support_contracts.topology import Topology
from support_demo.stack import JWT_SECRET, PARTICIPANT_SECRET, SITE, start_stack
from support_rpc import Failure, RemoteError
from support_rpc.server import Handler

RELAY_FOLLOWS = [event.routing_key() for event in ALL_SESSION_EVENTS]


@dataclass
class Demo:
    description: str
    api: httpx.AsyncClient
    seen: list[tuple[str, str]]  # (routing key, correlation id) of what support.events carried
    mine: set[str] | None  # the demo's correlation ids (None: everything is the demo's)

    @property
    def published(self) -> Counter[str]:
        """What the demo caused: its requests' events and those they led to (other users of
        ``support.events`` may publish too)."""
        return Counter(key for key, why in self.seen if self.mine is None or why in self.mine)


async def _count(events: AsyncIterator[Envelope], seen: list[tuple[str, str]]) -> None:
    async for event in events:
        seen.append((event.routing_key, str(event.correlation_id)))


def through(door: Handler) -> Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]:
    """A service's command door called in this process, refusing as it would over RabbitMQ."""

    async def call(command_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            return await door(command_type, fields)
        except Failure as failure:
            raise RemoteError(failure.status, failure.code, failure.message) from failure

    return call


@asynccontextmanager
async def embedded() -> AsyncIterator[Demo]:
    logs = {name: InMemoryEventStore() for name in ("session", "invite", "routing", "relay")}
    broker = InMemoryBroker()
    sessions = SessionHandlers(logs["session"])
    session_door_ = session_door(sessions)
    session_call = through(session_door_)
    invites = InviteHandlers(logs["invite"], SessionDirectory(session_call), site_url=SITE)
    routing = RoutingHandlers(logs["routing"])
    router = Router(routing, RoutingView(), idle_seconds=0.05)
    doors = {
        "session": session_door_,
        "invite": invite_door(invites),
        "routing": routing_door(Routing(routing, router.view, session_call)),
    }
    view, recordings = RelayView(), RecordingLog(logs["relay"])
    hub = Hub(
        view, RecordingStorage(Path(tempfile.mkdtemp(prefix="demo-recordings-"))), recordings.stored
    )
    relay = RelayServer(
        view, hub, session_call, recordings.recordings, token_secret=PARTICIPANT_SECRET,
        history=lambda session_id: history(logs["relay"], session_id),
    )  # fmt: skip
    await relay.start("127.0.0.1", 0)
    relay.ready = True
    feed = Feed()
    settings = GatewaySettings(
        jwt_secret=JWT_SECRET,
        participant_token_secret=PARTICIPANT_SECRET,
        relay_url=f"ws://127.0.0.1:{relay.port}",
    )
    gateway = Gateway(settings, Identity(settings), Doors(doors), feed)
    app = Idempotency(create_app(gateway), InMemoryEventStore(), who=gateway.identity.key_of)
    seen: list[tuple[str, str]] = []
    # queues exist before anything is published, as durable queues do on RabbitMQ
    consumers = {
        "invite-svc.session-events": (
            SESSION_EVENTS,
            Inbox(logs["invite"], "invite-svc", session_event_handler(invites)),
        ),
        "routing-svc.session-events": (
            ROUTING_FOLLOWS,
            Inbox(logs["routing"], "routing-svc", routing_intake(routing)),
        ),
        "session-svc.routing-events": (
            ROUTING_EVENTS,
            Inbox(logs["session"], "session-svc", routing_event_handler(sessions)),
        ),
        "media-relay.session-events": (
            RELAY_FOLLOWS,
            Inbox(logs["relay"], "media-relay", keep_session_event),
        ),
    }
    for queue, (keys, _) in consumers.items():
        broker.declare_queue(queue, keys)
    broker.declare_queue("demo-analytics", ["#"])
    broker.declare_queue("gateway-live", ["session.#"])
    tasks = [
        *(
            asyncio.create_task(OutboxRelay(logs[name], broker, idle_seconds=0.05).run())
            for name in ("session", "invite", "routing")
        ),
        asyncio.create_task(
            OutboxRelay(logs["relay"], broker, idle_seconds=0.05, publishes=publishes).run()
        ),
        *(
            asyncio.create_task(broker.consume(queue, list(keys), inbox))
            for queue, (keys, inbox) in consumers.items()
        ),
        asyncio.create_task(router.run()),
        asyncio.create_task(follow_log(logs["relay"], view, hub, snapshots(logs["relay"]))),
        asyncio.create_task(_count(broker.subscribe("demo-analytics", ["#"]), seen)),
        asyncio.create_task(_feed(broker.subscribe("gateway-live", ["session.#"]), feed)),
    ]
    description = (
        "embedded: every service in this process, in-memory event logs and broker, the gateway"
        " called in-process and the relay on a loopback port (RabbitMQ and PostgreSQL did not"
        " answer; set AMQP_URL and DATABASE_URL to run every service as its own process on them)"
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as api:
            yield Demo(description, api, seen, None)
    finally:
        for task in tasks:
            task.cancel()
        await relay.stop()


async def _feed(events: AsyncIterator[Envelope], feed: Feed) -> None:
    async for event in events:
        feed.deliver(event)


@dataclass(frozen=True)
class DemoNames:
    run: str

    @property
    def exchange(self) -> str:
        return EXCHANGE

    @property
    def prefix(self) -> str:
        return f"demo-{self.run}."

    def queue(self, name: str) -> str:
        return f"{self.prefix}{name}"


@asynccontextmanager
async def real(amqp_url: str, database_url: str) -> AsyncIterator[Demo]:
    names = DemoNames(uuid4().hex[:8])
    schemas = [f"demo_{names.run}_{service}" for service in ("ses", "inv", "rt", "rel", "gw")]
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    analytics = await channel.declare_queue(exclusive=True)
    await analytics.bind(exchange, "#")
    seen: list[tuple[str, str]] = []

    async def count(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        envelope = Envelope.parse(message.body)
        seen.append((envelope.routing_key, str(envelope.correlation_id)))
        await message.ack()

    await analytics.consume(count)
    try:
        async with AsyncExitStack() as exits:
            tmp = Path(exits.enter_context(tempfile.TemporaryDirectory(prefix="demo-")))
            stack = await start_stack(exits, amqp_url, database_url, names, schemas, tmp)
            description = (
                "real: session-svc, invite-svc, routing-svc, media-relay and the gateway as their"
                f" own processes on PostgreSQL at {database_url} (schemas {', '.join(schemas)})"
                f" and RabbitMQ at {amqp_url} ({EXCHANGE})"
            )
            async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as api:
                yield Demo(description, api, seen, set())
    finally:
        for queue in Topology(EXCHANGE, names.prefix).queues:
            await channel.queue_delete(queue)
        await connection.close()
        conn = await asyncpg.connect(database_url)
        for schema in schemas:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # nothing left behind
        await conn.close()


async def _answers(amqp_url: str, database_url: str) -> bool:
    try:
        connection = await asyncio.wait_for(aio_pika.connect(amqp_url), 3)
        await connection.close()
        conn = await asyncio.wait_for(asyncpg.connect(database_url), 3)
        await conn.close()
    except (OSError, TimeoutError, aio_pika.exceptions.AMQPError, asyncpg.PostgresError):
        return False
    return True


async def choose() -> AbstractAsyncContextManager[Demo]:
    """Real when RabbitMQ and PostgreSQL answer (where the variables say, or on the default
    ports); embedded when the variables are unset and nothing answers, or DEMO_MODE=embedded.
    Variables that point at something that does not answer are a mistake, said as such."""
    given = os.environ.get("AMQP_URL"), os.environ.get("DATABASE_URL")
    amqp_url = given[0] or "amqp://guest:guest@127.0.0.1:5672/"
    database_url = given[1] or "postgresql://postgres@127.0.0.1:5432/test"
    if os.environ.get("DEMO_MODE") == "embedded":
        return embedded()
    if await _answers(amqp_url, database_url):
        return real(amqp_url, database_url)
    if any(given):
        raise SystemExit(
            f"demo: RabbitMQ at {amqp_url} or PostgreSQL at {database_url} does not answer;"
            " start them (scripts/services-up) or unset AMQP_URL and DATABASE_URL"
        )
    return embedded()
