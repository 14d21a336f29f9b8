"""Where the demo runs. Embedded (default): session-svc, invite-svc and routing-svc in this
process, each on its own in-memory log, their outbox relays and inboxes on an in-memory
broker. Real (AMQP_URL and DATABASE_URL set): each started as its own process against
RabbitMQ and PostgreSQL, asked over request/reply, their events read from ``support.events``."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import aio_pika
import asyncpg

from eventlog import Inbox, InMemoryBroker, InMemoryEventStore, OutboxRelay
from invite_svc.entrypoints import SESSION_EVENTS, session_event_handler
from invite_svc.entrypoints import command_handler as invite_door
from invite_svc.handlers import InviteHandlers
from invite_svc.sessions import SessionDirectory
from invite_svc.settings import Settings as InviteSettings
from routing_svc.entrypoints import command_handler as routing_door
from routing_svc.entrypoints import session_event_handler as routing_intake
from routing_svc.handlers import SESSION_EVENTS as ROUTING_FOLLOWS
from routing_svc.handlers import RoutingHandlers
from routing_svc.router import Router
from routing_svc.service import Routing
from routing_svc.settings import Settings as RoutingSettings
from routing_svc.view import RoutingView
from session_svc.entrypoints import ROUTING_EVENTS, routing_event_handler
from session_svc.entrypoints import command_handler as session_door
from session_svc.handlers import SessionHandlers
from session_svc.settings import Settings as SessionSettings
from support_contracts import EXCHANGE, Envelope
from support_rpc import Failure, RemoteError, RpcClient
from support_rpc.server import Handler

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.code = code


@dataclass
class Demo:
    description: str
    call: Call
    published: Counter[str]


async def _count(events: AsyncIterator[Envelope], published: Counter[str]) -> None:
    async for event in events:
        published[event.routing_key] += 1


INVITE_COMMANDS = {"IssueInvitation", "RedeemInvitation"}
ROUTING_COMMANDS = {
    "ConfigureQueue",
    "ConfigureAgent",
    "ChangeAgentStatus",
    "AcceptOffer",
    "DeclineOffer",
    "SubmitEntryForm",
    "GetQueue",
    "GetAgent",
    "GetWaitingPosition",
}
SITE = "https://support.example.com"


def through(door: Handler) -> Call:
    """A service's command door called in this process: its refusals become Refusal."""

    async def call(command_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            return await door(command_type, fields)
        except Failure as failure:
            raise Refusal(failure.status, failure.code, failure.message) from failure

    return call


@asynccontextmanager
async def embedded() -> AsyncIterator[Demo]:
    session_log, invite_log, broker = InMemoryEventStore(), InMemoryEventStore(), InMemoryBroker()
    routing_log = InMemoryEventStore()
    sessions = SessionHandlers(session_log)
    session_call = through(session_door(sessions))
    invites = InviteHandlers(invite_log, SessionDirectory(session_call), site_url=SITE)
    invite_call = through(invite_door(invites))
    routing = RoutingHandlers(routing_log)
    router = Router(routing, RoutingView(), idle_seconds=0.05)
    routing_call = through(routing_door(Routing(routing, router.view, session_call)))
    published: Counter[str] = Counter()
    # queues exist before anything is published, as durable queues do on RabbitMQ
    broker.declare_queue("demo-analytics", ["#"])
    broker.declare_queue("invite-svc.session-events", SESSION_EVENTS)
    broker.declare_queue("routing-svc.session-events", ROUTING_FOLLOWS)
    broker.declare_queue("session-svc.routing-events", ROUTING_EVENTS)
    inboxes = {
        ("invite-svc.session-events", tuple(SESSION_EVENTS)): Inbox(
            invite_log, "invite-svc", session_event_handler(invites)
        ),
        ("routing-svc.session-events", tuple(ROUTING_FOLLOWS)): Inbox(
            routing_log, "routing-svc", routing_intake(routing)
        ),
        ("session-svc.routing-events", tuple(ROUTING_EVENTS)): Inbox(
            session_log, "session-svc", routing_event_handler(sessions)
        ),
    }
    tasks = [
        *(
            asyncio.create_task(OutboxRelay(log, broker, idle_seconds=0.05).run())
            for log in (session_log, invite_log, routing_log)
        ),
        *(
            asyncio.create_task(broker.consume(queue, list(keys), inbox))
            for (queue, keys), inbox in inboxes.items()
        ),
        asyncio.create_task(router.run()),
        asyncio.create_task(_count(broker.subscribe("demo-analytics", ["#"]), published)),
    ]

    async def call(command_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        if command_type in INVITE_COMMANDS:
            return await invite_call(command_type, fields)
        if command_type in ROUTING_COMMANDS:
            return await routing_call(command_type, fields)
        return await session_call(command_type, fields)

    description = (
        "embedded: session-svc, invite-svc and routing-svc in this process, in-memory event"
        " logs and broker (set AMQP_URL and DATABASE_URL to run them against RabbitMQ and"
        " PostgreSQL)"
    )
    try:
        yield Demo(description, call, published)
    finally:
        for task in tasks:
            task.cancel()


async def _spawn(module: str, environment: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        env={**os.environ, **environment},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


@asynccontextmanager
async def real(amqp_url: str, database_url: str) -> AsyncIterator[Demo]:
    run = uuid4().hex[:8]
    session_svc = SessionSettings(
        amqp_url=amqp_url,
        database_url=database_url,
        database_schema=f"demo_{run}",
        command_queue=f"demo-{run}.session-svc.commands",
        routing_queue=f"demo-{run}.session-svc.routing",
    )
    invite_svc = InviteSettings(
        amqp_url=amqp_url,
        database_url=database_url,
        database_schema=f"demo_inv_{run}",
        command_queue=f"demo-{run}.invite-svc.commands",
        session_queue=session_svc.command_queue,
        session_events_queue=f"demo-{run}.invite-svc.session-events",
        support_site_url=SITE,
    )
    routing_svc = RoutingSettings(
        amqp_url=amqp_url,
        database_url=database_url,
        database_schema=f"demo_rt_{run}",
        command_queue=f"demo-{run}.routing-svc.commands",
        session_queue=f"demo-{run}.routing-svc.session-events",
        session_commands=session_svc.command_queue,
    )
    processes = [
        await _spawn("session_svc", session_svc.as_environment()),
        await _spawn("invite_svc", invite_svc.as_environment()),
        await _spawn("routing_svc", routing_svc.as_environment()),
    ]
    client = await RpcClient(amqp_url).connect()
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    analytics = await channel.declare_queue(exclusive=True)
    await analytics.bind(exchange, "#")
    published: Counter[str] = Counter()
    mine: set[str] = set()  # other users of support.events may publish too

    async def count(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        envelope = Envelope.parse(message.body)
        if envelope.correlation_id.hex in mine:
            published[envelope.routing_key] += 1
        await message.ack()

    await analytics.consume(count)

    async def call(command_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        mine.add(fields["correlation_id"].replace("-", ""))
        queue = session_svc.command_queue
        if command_type in INVITE_COMMANDS:
            queue = invite_svc.command_queue
        elif command_type in ROUTING_COMMANDS:
            queue = routing_svc.command_queue
        try:
            return await client.call(queue, command_type, fields, within_seconds=30)
        except RemoteError as refused:
            raise Refusal(refused.status, refused.code, refused.message) from refused

    description = (
        f"real: session-svc, invite-svc and routing-svc as their own processes on PostgreSQL at"
        f" {database_url} (schemas {session_svc.database_schema},"
        f" {invite_svc.database_schema}, {routing_svc.database_schema}) and RabbitMQ at"
        f" {amqp_url} ({EXCHANGE})"
    )
    try:
        yield Demo(description, call, published)
    finally:
        for process in processes:
            process.terminate()
            await process.wait()
        await client.close()
        for queue in (
            session_svc.command_queue,
            session_svc.routing_queue,
            session_svc.routing_queue + ".dead",
            invite_svc.command_queue,
            invite_svc.session_events_queue,
            invite_svc.session_events_queue + ".dead",
            routing_svc.command_queue,
            routing_svc.session_queue,
            routing_svc.session_queue + ".dead",
        ):
            await channel.queue_delete(queue)
        await connection.close()
        conn = await asyncpg.connect(database_url)
        schemas = (session_svc.database_schema, invite_svc.database_schema)
        for schema in (*schemas, routing_svc.database_schema):
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # nothing left behind
        await conn.close()


def choose() -> AbstractAsyncContextManager[Demo]:
    amqp_url, database_url = os.environ.get("AMQP_URL"), os.environ.get("DATABASE_URL")
    if amqp_url and database_url:
        return real(amqp_url, database_url)
    return embedded()
