"""Where the demo runs: embedded (in-memory log and broker, one process) unless AMQP_URL and
DATABASE_URL name a real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol
from uuid import uuid4

import aio_pika

from eventlog import EventPublisher, EventStore, Inbox, InMemoryBroker, InMemoryEventStore
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher
from support_contracts import EXCHANGE


class Subscriptions(Protocol):
    async def start(self, queue: str, keys: Sequence[str], inbox: Inbox) -> None: ...


@dataclass
class Wiring:
    description: str
    store: EventStore
    publisher: EventPublisher
    subscriptions: Subscriptions
    run_id: str = field(default_factory=lambda: uuid4().hex[:8])


class MemorySubscriptions:
    def __init__(self, broker: InMemoryBroker) -> None:
        self._broker = broker
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self, queue: str, keys: Sequence[str], inbox: Inbox) -> None:
        self._broker.declare_queue(queue, keys)
        self.tasks.append(asyncio.create_task(self._broker.consume(queue, keys, inbox)))


class RabbitSubscriptions:
    def __init__(self, url: str) -> None:
        self._url = url
        self.consumers: list[RabbitEventConsumer] = []

    async def start(self, queue: str, keys: Sequence[str], inbox: Inbox) -> None:
        consumer = RabbitEventConsumer(self._url, queue, keys, inbox)
        await consumer.start()
        self.consumers.append(consumer)

    async def close(self) -> None:
        """Stop the consumers and remove the demo's own queues from the broker."""
        for consumer in self.consumers:
            await consumer.stop()
        connection = await aio_pika.connect(self._url)
        channel = await connection.channel()
        for consumer in self.consumers:
            await channel.queue_delete(consumer.queue_name)
            await channel.queue_delete(consumer.dead_letter_queue)
        await connection.close()


@asynccontextmanager
async def embedded() -> AsyncIterator[Wiring]:
    broker = InMemoryBroker()
    subscriptions = MemorySubscriptions(broker)
    description = (
        "embedded: one process, in-memory event log and broker"
        " (set AMQP_URL and DATABASE_URL to run against RabbitMQ and PostgreSQL)"
    )
    try:
        yield Wiring(description, InMemoryEventStore(), broker, subscriptions)
    finally:
        for task in subscriptions.tasks:
            task.cancel()


@asynccontextmanager
async def real(amqp_url: str, database_url: str) -> AsyncIterator[Wiring]:
    run_id = uuid4().hex[:8]
    schema = f"demo_{run_id}"
    store = await PostgresEventStore.connect(database_url, schema)
    publisher = await RabbitPublisher(amqp_url, EXCHANGE).connect()
    subscriptions = RabbitSubscriptions(amqp_url)
    description = (
        f"real: PostgreSQL at {database_url} (schema {schema}),"
        f" RabbitMQ at {amqp_url} (exchange {EXCHANGE})"
    )
    try:
        yield Wiring(description, store, publisher, subscriptions, run_id)
    finally:
        await subscriptions.close()
        await publisher.close()
        await store.drop()  # the demo leaves nothing behind in the database
        await store.close()


def choose() -> AbstractAsyncContextManager[Wiring]:
    amqp_url, database_url = os.environ.get("AMQP_URL"), os.environ.get("DATABASE_URL")
    if amqp_url and database_url:
        return real(amqp_url, database_url)
    return embedded()
