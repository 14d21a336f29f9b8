"""Where the demo runs; either way it talks to the gateway's HTTP API and the relay's WebSocket.

Real (``AMQP_URL``/``DATABASE_URL`` set, or RabbitMQ and PostgreSQL answering on the default
ports): every service started as its own process (``stack.py``) on schemas of the demo's own,
dropped afterwards, with the events on ``support.events``. Embedded (nothing answers, or
``DEMO_MODE=embedded``): every service in this process, started by the same ``start()`` as its
process, each on its own in-memory log, all on one in-memory broker; the gateway and the relay
on loopback ports."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from uuid import uuid4

import aio_pika
import asyncpg
import httpx

from eventlog import InMemoryEventStore
from gateway import bootstrap as gateway
from gateway.settings import Settings as GatewaySettings
from invite_svc import bootstrap as invite_svc
from invite_svc.channels import Letter
from invite_svc.settings import Settings as InviteSettings
from media_relay import bootstrap as media_relay
from media_relay.settings import Settings as RelaySettings
from routing_svc import bootstrap as routing_svc
from routing_svc.settings import Settings as RoutingSettings
from service_runtime.brokers import MemoryBroker
from service_runtime.host import Stoppable
from session_svc import bootstrap as session_svc
from session_svc.settings import Settings as SessionSettings
from support_contracts import EXCHANGE, Envelope
from support_contracts.topology import Topology
from support_demo.stack import (
    JWT_SECRET,
    PARTICIPANT_SECRET,
    SITE,
    ContractNames,
    IdentityProvider,
    signing_in,
    start_stack,
)

S = TypeVar("S", bound=Stoppable)


@dataclass
class Demo:
    description: str
    api: httpx.AsyncClient  # the gateway's
    relay_url: str
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


class Mailbox:
    """Where the embedded demo's system e-mail goes: kept here, not sent."""

    def __init__(self) -> None:
        self.letters: list[tuple[str, str]] = []  # (to, subject)

    async def send(self, to: str, letter: Letter, *, message_id: str) -> str:
        self.letters.append((to, letter.subject))
        return f"250 kept by the demo's mailbox as {message_id}"


@asynccontextmanager
async def embedded(
    *,
    gateway_port: int = 0,
    relay_port: int = 0,
    site: str = SITE,
    smtp_url: str | None = None,
    dev_sign_in: bool = False,
    provider: IdentityProvider | None = None,
) -> AsyncIterator[Demo]:
    """Every service started as its process starts it (``bootstrap.start``), each on an
    in-memory log of its own, all on one in-memory broker; the gateway and the relay on these
    loopback ports (0: any free one), system e-mail to the SMTP server at ``smtp_url`` (kept
    in memory, unsent, when there is none); ``dev_sign_in``: the consoles sign in by name;
    ``provider``: with that identity provider instead."""
    broker = MemoryBroker()
    broker.events.declare_queue("demo-analytics", ["#"])  # before anything is published
    seen: list[tuple[str, str]] = []
    async with AsyncExitStack() as stops:
        recordings = Path(stops.enter_context(tempfile.TemporaryDirectory(prefix="demo-")))

        async def started(service: S) -> S:
            stops.push_async_callback(service.stop)  # stopped in the reverse order
            return service

        def log() -> InMemoryEventStore:
            return InMemoryEventStore()

        await started(await session_svc.start(SessionSettings(), store=log(), broker=broker))
        invites = InviteSettings(support_site_url=site)
        if smtp_url is not None:
            invites = InviteSettings(support_site_url=site, smtp_url=smtp_url)
        mailer = None if smtp_url else Mailbox()  # the settings' SMTP server, or kept here
        await started(await invite_svc.start(invites, store=log(), broker=broker, mailer=mailer))
        await started(
            await routing_svc.start(
                RoutingSettings(), store=log(), broker=broker, idle_seconds=0.05
            )
        )
        relay_settings = RelaySettings(
            host="127.0.0.1",
            port=relay_port,
            participant_token_secret=PARTICIPANT_SECRET,
            recordings_dir=recordings,
        )
        relay = await started(await media_relay.start(relay_settings, store=log(), broker=broker))
        gateway_settings = GatewaySettings(
            host="127.0.0.1",
            port=gateway_port,
            jwt_secret=JWT_SECRET,
            participant_token_secret=PARTICIPANT_SECRET,
            relay_url=f"ws://127.0.0.1:{relay.port}",
            **signing_in(dev_sign_in, provider),
        )
        gw = await started(await gateway.start(gateway_settings, store=log(), broker=broker))
        analytics = broker.events.subscribe("demo-analytics", ["#"])
        counting = asyncio.create_task(_count(analytics, seen))
        stops.callback(counting.cancel)
        description = (
            "embedded: every service in this process, each started as its process starts it,"
            " on in-memory event logs and one in-memory broker, the gateway and the relay on"
            " loopback ports (RabbitMQ and PostgreSQL did not answer; set AMQP_URL and"
            " DATABASE_URL to run every service as its own process on them)"
        )
        async with httpx.AsyncClient(base_url=gw.url, timeout=30) as api:
            yield Demo(description, api, f"ws://127.0.0.1:{relay.port}", seen, None)


@asynccontextmanager
async def real(amqp_url: str, database_url: str) -> AsyncIterator[Demo]:
    run = uuid4().hex[:8]
    names = ContractNames(f"demo-{run}.")
    schemas = [f"demo_{run}_{service}" for service in ("ses", "inv", "rt", "rel", "gw")]
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
                yield Demo(description, api, f"ws://127.0.0.1:{stack.relay_port}", seen, set())
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


async def servers(command: str) -> tuple[str, str] | None:
    """RabbitMQ's and PostgreSQL's URLs when they answer (where the variables say, or on the
    default ports); None for embedded: the variables unset and nothing answers, or
    DEMO_MODE=embedded. Variables that point at something that does not answer are a mistake,
    said as such (``command`` says who stops)."""
    given = os.environ.get("AMQP_URL"), os.environ.get("DATABASE_URL")
    amqp_url = given[0] or "amqp://guest:guest@127.0.0.1:5672/"
    database_url = given[1] or "postgresql://postgres@127.0.0.1:5432/test"
    if os.environ.get("DEMO_MODE") == "embedded":
        return None
    if await _answers(amqp_url, database_url):
        return amqp_url, database_url
    if any(given):
        raise SystemExit(
            f"{command}: RabbitMQ at {amqp_url} or PostgreSQL at {database_url} does not answer;"
            " start them (scripts/services-up) or unset AMQP_URL and DATABASE_URL"
        )
    return None


async def choose() -> AbstractAsyncContextManager[Demo]:
    """The demo, real or embedded as ``servers`` finds."""
    found = await servers("demo")
    return embedded() if found is None else real(*found)
