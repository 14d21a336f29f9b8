"""Where the demo runs. Embedded (default): session-svc's handlers in this process on the
in-memory log, the outbox relay to the in-memory broker. Real (AMQP_URL and DATABASE_URL set):
session-svc started as its own process against RabbitMQ and PostgreSQL, asked over
request/reply, its events read from ``support.events``."""

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

from eventlog import InMemoryBroker, InMemoryEventStore, OutboxRelay
from session_svc import service
from session_svc.domain import Refused
from session_svc.handlers import SessionHandlers
from session_svc.settings import Settings
from support_contracts import COMMANDS, EXCHANGE, ContractViolation, Envelope
from support_rpc import RemoteError, RpcClient

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")


@dataclass
class Demo:
    description: str
    call: Call
    published: Counter[str]


async def _count(events: AsyncIterator[Envelope], published: Counter[str]) -> None:
    async for event in events:
        published[event.routing_key] += 1


@asynccontextmanager
async def embedded() -> AsyncIterator[Demo]:
    store, broker = InMemoryEventStore(), InMemoryBroker()
    handlers = SessionHandlers(store)
    published: Counter[str] = Counter()
    broker.declare_queue("demo-analytics", ["#"])
    tasks = [
        asyncio.create_task(OutboxRelay(store, broker, idle_seconds=0.05).run()),
        asyncio.create_task(_count(broker.subscribe("demo-analytics", ["#"]), published)),
    ]

    async def call(command_type: str, fields: dict[str, Any]) -> dict[str, Any]:
        try:
            return await service.execute(handlers, COMMANDS.get(command_type).parse(fields))
        except ContractViolation as invalid:
            raise Refusal(422, "invalid_command", str(invalid)) from invalid
        except Refused as refused:
            raise Refusal(refused.status, refused.code, refused.message) from refused

    description = (
        "embedded: session-svc in this process, in-memory event log and broker"
        " (set AMQP_URL and DATABASE_URL to run it against RabbitMQ and PostgreSQL)"
    )
    try:
        yield Demo(description, call, published)
    finally:
        for task in tasks:
            task.cancel()


@asynccontextmanager
async def real(amqp_url: str, database_url: str) -> AsyncIterator[Demo]:
    run = uuid4().hex[:8]
    settings = Settings(
        amqp_url=amqp_url,
        database_url=database_url,
        database_schema=f"demo_{run}",
        command_queue=f"demo-{run}.session-svc.commands",
        routing_queue=f"demo-{run}.session-svc.routing",
    )
    schema, queue = settings.database_schema, settings.command_queue
    env = {**os.environ, **settings.as_environment()}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "session_svc",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    client = await RpcClient(amqp_url).connect()
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    analytics = await channel.declare_queue(exclusive=True)
    await analytics.bind(exchange, "session.#")
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
        try:
            return await client.call(queue, command_type, fields, within_seconds=30)
        except RemoteError as refused:
            raise Refusal(refused.status, refused.code, refused.message) from refused

    description = (
        f"real: session-svc as its own process (pid {process.pid}) on PostgreSQL at"
        f" {database_url} (schema {schema}) and RabbitMQ at {amqp_url} ({EXCHANGE})"
    )
    try:
        yield Demo(description, call, published)
    finally:
        process.terminate()
        await process.wait()
        await client.close()
        await channel.queue_delete(queue)
        await channel.queue_delete(settings.routing_queue)
        await channel.queue_delete(settings.routing_queue + ".dead")
        await connection.close()
        conn = await asyncpg.connect(database_url)
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # leave nothing behind
        await conn.close()


def choose() -> AbstractAsyncContextManager[Demo]:
    amqp_url, database_url = os.environ.get("AMQP_URL"), os.environ.get("DATABASE_URL")
    if amqp_url and database_url:
        return real(amqp_url, database_url)
    return embedded()
