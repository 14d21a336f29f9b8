"""The two broker wirings behind one face, so delivery tests run against both."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

from eventlog import EventPublisher, Inbox, InMemoryBroker
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher, declare_events_exchange
from support_contracts import Envelope
from support_testkit import stopped
from support_testkit.plugin import RabbitNames


class Wiring(Protocol):
    publisher: EventPublisher

    async def listen(self, queue: str, keys: Sequence[str]) -> list[Envelope]:
        """A plain subscriber: the list fills as events arrive."""
        ...

    async def consume(self, queue: str, keys: Sequence[str], inbox: Inbox) -> None: ...

    async def dead_letters(self, queue: str) -> list[tuple[Envelope, str]]: ...

    async def close(self) -> None: ...


class MemoryWiring:
    def __init__(self) -> None:
        self.broker = InMemoryBroker()
        self.publisher: EventPublisher = self.broker
        self._tasks: list[asyncio.Task[Any]] = []

    async def listen(self, queue: str, keys: Sequence[str]) -> list[Envelope]:
        received: list[Envelope] = []
        self.broker.declare_queue(queue, keys)

        async def record() -> None:
            async for envelope in self.broker.subscribe(queue, keys):
                received.append(envelope)

        self._tasks.append(asyncio.create_task(record()))
        return received

    async def consume(self, queue: str, keys: Sequence[str], inbox: Inbox) -> None:
        self.broker.declare_queue(queue, keys)
        self._tasks.append(asyncio.create_task(self.broker.consume(queue, keys, inbox)))

    async def dead_letters(self, queue: str) -> list[tuple[Envelope, str]]:
        return self.broker.dead_letters(queue)

    async def close(self) -> None:
        await stopped(*self._tasks)


class RabbitWiring:
    def __init__(self, url: str, names: RabbitNames) -> None:
        self.url, self.names = url, names
        self.publisher: RabbitPublisher = RabbitPublisher(url, names.exchange)
        self.raw: dict[str, list[AbstractIncomingMessage]] = {}
        self._consumers: list[RabbitEventConsumer] = []
        self._connection: aio_pika.abc.AbstractRobustConnection | None = None

    async def _channel(self) -> aio_pika.abc.AbstractChannel:
        if self._connection is None:
            self._connection = await aio_pika.connect_robust(self.url)
        return await self._connection.channel()

    async def listen(self, queue: str, keys: Sequence[str]) -> list[Envelope]:
        channel = await self._channel()
        exchange = await declare_events_exchange(channel, self.names.exchange)
        q = await channel.declare_queue(self.names.queue(queue), auto_delete=True)
        for key in keys:
            await q.bind(exchange, key)
        received: list[Envelope] = []
        raw = self.raw.setdefault(queue, [])

        async def on_message(message: AbstractIncomingMessage) -> None:
            raw.append(message)
            received.append(Envelope.parse(message.body))
            await message.ack()

        await q.consume(on_message)
        return received

    async def consume(self, queue: str, keys: Sequence[str], inbox: Inbox) -> None:
        consumer = RabbitEventConsumer(
            self.url, self.names.queue(queue), keys, inbox, exchange=self.names.exchange
        )
        await consumer.start()
        self._consumers.append(consumer)

    async def next_dead_letter(self, queue: str) -> AbstractIncomingMessage | None:
        """Take the next message of ``<queue>.dead``, as it is, or None."""
        channel = await self._channel()
        dead = await channel.declare_queue(
            f"{self.names.queue(queue)}.dead", durable=True, arguments={"x-queue-type": "quorum"}
        )
        return await dead.get(fail=False)

    async def dead_letters(self, queue: str) -> list[tuple[Envelope, str]]:
        found: list[tuple[Envelope, str]] = []
        while (message := await self.next_dead_letter(queue)) is not None:
            found.append((Envelope.parse(message.body), str(message.headers["x-error"])))
        return found

    async def close(self) -> None:
        for consumer in self._consumers:
            await consumer.stop()
        await self.publisher.close()
        if self._connection is not None:
            await self._connection.close()
