"""RabbitMQ wiring: the relay's publisher and the inbox's consumer (aio-pika).

Events go to the durable topic exchange ``support.events`` as persistent JSON in the contract
envelope, with publisher confirms. A consumer has a durable quorum queue of its own bound to
the routing keys it needs, and ``<queue>.dead`` for messages that keep failing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)
from pamqp.commands import Basic
from prometheus_client import Counter, Histogram

from eventlog.inbox import Inbox
from support_contracts import EXCHANGE, ContractViolation, Envelope
from support_contracts.topology import QUORUM, Subscription, Topology
from support_rpc.amqp import Amqp, Connect

log = structlog.get_logger(__name__)

HANDLED = Counter(
    "support_events_handled_total", "Events a consumer took in", ["consumer", "type", "outcome"]
)
HANDLER_SECONDS = Histogram(
    "support_event_handler_seconds", "Time to handle an event (a batch's share)", ["consumer"]
)


def properties(event: Envelope) -> Basic.Properties:
    """Persistent JSON; the event's id, correlation id, type, time, stream and position."""
    return Basic.Properties(
        content_type="application/json",
        delivery_mode=2,
        message_id=str(event.event_id),
        correlation_id=str(event.correlation_id),
        message_type=event.type,
        timestamp=event.occurred_at,
        headers={"stream_id": event.stream_id, "global_position": event.global_position},
    )


async def declare_events_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


async def declare_subscription(
    channel: AbstractChannel, exchange: AbstractExchange, subscription: Subscription
) -> AbstractQueue:
    """A consumer's queue with its bindings, and its dead-letter queue."""
    await channel.declare_queue(subscription.dead_letter_queue, durable=True, arguments=QUORUM)
    queue = await channel.declare_queue(
        subscription.queue, durable=True, arguments=subscription.arguments
    )
    for key in subscription.routing_keys:
        await queue.bind(exchange, key)
    return queue


async def declare_topology(source: str | Connect, topology: Topology, *, tries: int = 5) -> None:
    """Issue 14.11: the exchange, every command queue and every consumer's queue with its
    bindings, whoever starts first, so no event is published before the queue that needs it
    exists. Declaring what exists changes nothing; replicas declaring at once on a fresh
    broker may be refused (``INTERNAL_ERROR``), and it is tried again, on a new channel."""
    amqp = Amqp(source)
    for attempt in range(1, tries + 1):
        channel = None
        try:
            channel = await (await amqp.open()).channel()
            exchange = await declare_events_exchange(channel, topology.exchange)
            for name in topology.command_queues:
                await channel.declare_queue(name, durable=True, arguments=QUORUM)
            for subscription in topology.subscriptions:
                await declare_subscription(channel, exchange, subscription)
            await amqp.close(channel)
            return
        except aio_pika.exceptions.AMQPError as error:
            await amqp.close(channel)
            if attempt == tries:
                raise
            log.warning("topology.declare_retrying", error=repr(error))
            await asyncio.sleep(0.2 * attempt)


def moved(message: AbstractIncomingMessage, headers: dict[str, Any]) -> aio_pika.Message:
    """The message as it came, persistent, with ``headers``: to move it to another queue (to
    the dead letters, or back from them)."""
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        message_id=message.message_id,
        type=message.type,
    )


def delivery_count(message: AbstractIncomingMessage) -> int:
    """How often a quorum queue delivered this message before (0 on the first delivery)."""
    count = message.headers.get("x-delivery-count", 0)
    return count if isinstance(count, int) else 0


class RabbitPublisher:
    """Publishes in the order given and returns when the broker confirmed them all. aiormq
    numbers and writes publishes under a FIFO lock and awaits confirms outside it, so a
    batch is pipelined without reordering. Publishes go to aiormq's channel directly: an
    aio-pika ``Message`` per event (its properties converted attribute by attribute) cost
    more than the publish itself (237 against 108 µs an event, measured)."""

    def __init__(self, source: str | Connect, exchange: str = EXCHANGE) -> None:
        self._amqp, self._exchange_name = Amqp(source), exchange
        self._channel: AbstractChannel | None = None

    async def connect(self) -> RabbitPublisher:
        connection = await self._amqp.open()
        self._channel = await connection.channel(publisher_confirms=True)
        await declare_events_exchange(self._channel, self._exchange_name)
        return self

    async def publish(self, events: Sequence[Envelope]) -> None:
        if self._channel is None:
            await self.connect()
        assert self._channel is not None
        channel = await self._channel.get_underlay_channel()  # the current one, after reconnects
        confirms = await asyncio.gather(
            *(
                channel.basic_publish(
                    e.model_dump_json().encode(),
                    exchange=self._exchange_name,
                    routing_key=e.routing_key,
                    properties=properties(e),
                )
                for e in events
            )
        )
        refused = [c for c in confirms if not isinstance(c, Basic.Ack)]
        if refused:
            raise aio_pika.exceptions.DeliveryError(None, refused[0])  # type: ignore[arg-type]

    async def close(self) -> None:
        await self._amqp.close(self._channel)
        self._channel = None


def _open_channel(message: AbstractIncomingMessage) -> object | None:
    """The channel ``message`` came on, unless it is closed (its deliveries come again)."""
    try:
        return message.channel
    except aio_pika.exceptions.ChannelInvalidStateError:
        return None


class RabbitEventConsumer:
    """Feeds one queue's events to an inbox, one at a time, in the order the queue holds them
    (aiormq runs each delivery's callback as a task of its own, so deliveries are handed to a
    single worker through a local queue).

    With ``single_active`` the queue lets one consumer at a time take its messages (RabbitMQ's
    single active consumer; another replica's consumer waits and takes over when it goes), so
    events are handled in the queue's order across replicas, not only within one.

    Events that have arrived together (up to ``batch``) are handled in one transaction; if one
    of them fails, each is handled on its own.

    A failed event is retried in place (see :meth:`Inbox.deliver`), counting the tries of
    earlier deliveries by the quorum queue's ``x-delivery-count``; after ``max_attempts`` it
    goes to ``<queue>.dead`` with the error in its headers and the consumer goes on. A message
    that is not a valid envelope of a known event type, its data valid for that type, goes
    there at once (issue 13.9: a poison message is never kept, and never stops a consumer).
    """

    def __init__(
        self,
        source: str | Connect,
        queue: str,
        binding_keys: Sequence[str],
        inbox: Inbox,
        *,
        exchange: str = EXCHANGE,
        prefetch: int = 64,
        single_active: bool = False,
        batch: int = 50,
    ) -> None:
        self._batch = batch
        # the channel on which a batch was left unsettled while it stayed open: no ack of many
        # on it from then on (it would settle what was never handled)
        self._left_unsettled_on: object | None = None
        self._amqp, self.queue_name = Amqp(source), queue
        self._subscription = Subscription(queue, tuple(binding_keys), single_active)
        self._inbox, self._exchange_name, self._prefetch = inbox, exchange, prefetch
        self._channel: AbstractChannel | None = None
        self._dead_channel: AbstractChannel | None = None
        self._stopped = False
        self._queue: AbstractQueue | None = None
        self._consumer_tag: str | None = None
        self._deliveries: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def dead_letter_queue(self) -> str:
        return self._subscription.dead_letter_queue

    async def start(self, *, tries: int = 5) -> None:
        """Declares the queues and bindings and starts consuming. Replicas started together on
        a fresh broker race to declare the same quorum queue, and the broker may refuse one
        of them (``INTERNAL_ERROR``): the set-up is tried again, on new channels."""
        for attempt in range(1, tries + 1):
            try:
                await self._set_up()
                return
            except aio_pika.exceptions.AMQPError as error:
                if attempt == tries:
                    raise
                log.warning("consumer.set_up_retrying", queue=self.queue_name, error=repr(error))
                await self._amqp.close(self._channel, self._dead_channel)
                await asyncio.sleep(0.2 * attempt)

    async def _set_up(self) -> None:
        connection = await self._amqp.open()
        self._channel = channel = await connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        self._dead_channel = await connection.channel(publisher_confirms=True)
        exchange = await declare_events_exchange(channel, self._exchange_name)
        self._queue = await declare_subscription(channel, exchange, self._subscription)
        self._worker = asyncio.create_task(self._work(), name=f"consumer:{self.queue_name}")
        self._consumer_tag = await self._queue.consume(self._deliveries.put)

    async def ready(self) -> None:
        """Raises unless it is connected and consuming, not waiting out an outage."""
        if self._stopped or not await self._amqp.ready(self._channel):
            raise RuntimeError(f"{self.queue_name}: not connected to the broker")
        if self._inbox.waiting_out:
            raise RuntimeError(f"{self.queue_name}: waiting out an outage")

    async def _work(self) -> None:
        while True:
            batch = [await self._deliveries.get()]
            while len(batch) < self._batch and not self._deliveries.empty():
                batch.append(self._deliveries.get_nowait())
            self._idle.clear()
            try:
                await self._process(batch)
            except Exception as error:  # the broker connection failed mid-way: it redelivers
                self._left_unsettled_on = _open_channel(batch[-1])
                log.warning(
                    "consumer.delivery_interrupted", queue=self.queue_name, error=repr(error)
                )
            finally:
                self._idle.set()

    async def _process(self, messages: list[AbstractIncomingMessage]) -> None:
        """What arrived together is handled in one transaction (see ``Inbox.deliver_many``)."""
        deliveries, kept = [], []
        for message in messages:
            attempt = 1 + delivery_count(message)
            try:
                envelope = Envelope.parse(message.body)
                envelope.event()  # an unknown type, or data not of its type: no handler's
            except ContractViolation as error:
                await self._dead_letter(message, f"ContractViolation: {error}", attempt)
                continue
            deliveries.append((envelope, attempt))
            kept.append(message)
        if not deliveries:
            return
        began = time.perf_counter()
        verdicts = await self._inbox.deliver_many(deliveries)
        each = (time.perf_counter() - began) / len(deliveries)
        for verdict, (envelope, _) in zip(verdicts, deliveries, strict=True):
            outcome = "dead" if verdict.dead else "handled" if verdict.handled else "duplicate"
            HANDLED.labels(self._inbox.consumer, envelope.type, outcome).inc()
            HANDLER_SECONDS.labels(self._inbox.consumer).observe(each)
        if kept[-1].channel is not self._left_unsettled_on and not any(v.dead for v in verdicts):
            # one ack for the batch (issue 19: a quorum queue logs each settlement): every
            # delivery before it on its channel is settled already, taken in order, one batch
            # at a time
            await kept[-1].ack(multiple=len(kept) > 1)
            return
        for message, verdict in zip(kept, verdicts, strict=True):
            if verdict.dead:
                await self._dead_letter(message, verdict.error or "", verdict.attempts)
            else:
                await message.ack()

    async def _dead_letter(
        self, message: AbstractIncomingMessage, error: str, attempts: int
    ) -> None:
        assert self._dead_channel is not None
        headers = dict(message.headers)
        headers.update(
            {
                "x-error": error[:4000],
                "x-attempts": attempts,
                "x-consumer": self._inbox.consumer,
                "x-original-routing-key": message.routing_key or "",
            }
        )
        dead = moved(message, headers)
        await self._dead_channel.default_exchange.publish(dead, routing_key=self.dead_letter_queue)
        await message.ack()
        log.error("inbox.dead_lettered", queue=self.queue_name, error=error, attempts=attempts)

    async def stop(self) -> None:
        """Stop taking messages, finish the one in hand; what is unacked goes back to the queue.
        Stopping again does nothing."""
        if self._stopped or self._amqp.connection is None:
            return
        self._stopped = True
        if self._queue is not None and self._consumer_tag is not None:
            await self._queue.cancel(self._consumer_tag)
        if self._worker is not None:
            await self._idle.wait()
            self._worker.cancel()
        await self._amqp.close(self._channel, self._dead_channel)
