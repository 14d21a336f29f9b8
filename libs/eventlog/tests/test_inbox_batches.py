"""Deliveries that arrive together are handled in one transaction (one commit for many), with
the same guarantees as one at a time: each once, in order, and a failing one handled alone;
and the same with the record of each written by the handler's append (``record_in_append``,
issue 19: one statement an event, and no transaction around it for an event alone)."""

from __future__ import annotations

import asyncio

import aio_pika
import pytest

from eventlog import EventStore, Inbox, InMemoryEventStore, StreamState, Transaction
from eventlog.inbox import Handler, Verdict
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher
from support_contracts import Envelope
from support_testkit import eventually
from support_testkit.plugin import RabbitNames, fresh_schema

from .factories import new_event, recorded, transactions_counted


def projector(transactions: list[object], handled: list[str]) -> Handler:
    async def project(envelope: Envelope, tx: Transaction) -> None:
        label = envelope.data["participant_id"]
        transactions.append(tx)  # kept, so no two share an id()
        if label == "poison":
            raise ValueError("cannot project poison")
        await tx.append("projection", [new_event(label)], StreamState.ANY)
        handled.append(label)

    return project


RECORDING = pytest.mark.parametrize("in_append", [False, True], ids=["recorded", "in_append"])


@RECORDING
async def test_deliveries_together_are_handled_in_one_transaction_each_once(
    store: EventStore, in_append: bool
) -> None:
    transactions: list[object] = []
    inbox = Inbox(store, "projector", projector(transactions, []), record_in_append=in_append)
    events = await recorded(store, "a", "b", "c")
    verdicts = await inbox.deliver_many([(e, 1) for e in events])
    assert [v.handled for v in verdicts] == [True, True, True]
    assert len({id(t) for t in transactions}) == 1
    again = await inbox.deliver_many([(e, 1) for e in events])  # delivered again: skipped
    assert [v.handled for v in again] == [False, False, False]
    projected = await store.read_stream("projection")
    assert [e.data["participant_id"] for e in projected] == ["a", "b", "c"]


@RECORDING
async def test_a_failing_delivery_leaves_nothing_of_its_batch_and_the_others_are_handled(
    store: EventStore, in_append: bool
) -> None:
    tries: list[object] = []
    inbox = Inbox(
        store, "projector", projector(tries, []), max_attempts=2, record_in_append=in_append
    )
    events = await recorded(store, "a", "poison", "b")
    verdicts = await inbox.deliver_many([(e, 1) for e in events])
    assert [(v.handled, v.dead) for v in verdicts] == [(True, False), (False, True), (True, False)]
    assert len(tries) == 2 + 1 + 2  # the batch (a, poison), poison once more, a and b alone
    projected = await store.read_stream("projection")
    assert [e.data["participant_id"] for e in projected] == ["a", "b"]  # once each


@pytest.mark.integration
async def test_an_event_alone_recorded_in_its_append_is_one_statement_with_no_transaction(
    database_url: str, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await PostgresEventStore.connect(database_url, pg_schema)
    try:
        [event] = await recorded(store, "a")
        opened = transactions_counted(store, monkeypatch)
        inbox = Inbox(store, "projector", projector([], []), record_in_append=True)
        assert (await inbox.deliver(event)).handled
        assert not (await inbox.deliver(event)).handled  # delivered again: recorded, skipped
        assert opened == []  # BEGIN and COMMIT were two of its three round trips
        projected = await store.read_stream("projection")
        assert [e.data["participant_id"] for e in projected] == ["a"]
    finally:
        await store.close()


@pytest.mark.integration
async def test_a_consumer_with_a_backlog_takes_it_in_batches_in_order(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    """...and settles each batch with one ack (a quorum queue logs every settlement)."""
    acks: list[bool] = []
    ack = aio_pika.IncomingMessage.ack

    async def counted(message: aio_pika.IncomingMessage, multiple: bool = False) -> None:
        acks.append(multiple)
        await ack(message, multiple=multiple)

    monkeypatch.setattr(aio_pika.IncomingMessage, "ack", counted)
    async with fresh_schema(database_url) as schema:
        store = await PostgresEventStore.connect(database_url, schema)
        transactions: list[object] = []
        handled: list[str] = []
        inbox = Inbox(store, "projector", projector(transactions, handled))
        queue = rabbit_names.queue("batches")
        consumer = RabbitEventConsumer(
            amqp_url, queue, ["#"], inbox, exchange=rabbit_names.exchange, batch=10
        )
        await consumer.start()
        await consumer.stop()  # the queue exists and is bound; events wait in it
        labels = [f"e{n:02}" for n in range(40)]
        publisher = await RabbitPublisher(amqp_url, rabbit_names.exchange).connect()
        await publisher.publish(await recorded(store, *labels))
        consumer = RabbitEventConsumer(
            amqp_url, queue, ["#"], inbox, exchange=rabbit_names.exchange, batch=10
        )
        await consumer.start()
        try:
            await eventually(lambda: len(handled) == 40, what="the backlog handled")
            await asyncio.sleep(0.1)
            assert handled == labels
            assert 4 <= len({id(t) for t in transactions}) < 40  # at most 10 to a transaction
            assert len(acks) == len({id(t) for t in transactions}) and any(acks)
        finally:
            await consumer.stop()
            await publisher.close()
            await store.close()
        assert await _messages_in(amqp_url, queue) == 0  # none back in the queue: all settled


@pytest.mark.integration
async def test_a_batch_left_unsettled_is_not_settled_by_a_later_ack_of_many(
    amqp_url: str, rabbit_names: RabbitNames, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch that failed mid-way on a channel still open (not the connection: a fault of the
    consumer's own) stays unacknowledged: the next batch's ack settles only itself."""
    store, handled, left = InMemoryEventStore(), [], []
    inbox = Inbox(store, "projector", projector([], handled))
    deliver_many = inbox.deliver_many

    async def fails_first(deliveries: list[tuple[Envelope, int]]) -> list[Verdict]:
        if not left:
            left.extend(e.data["participant_id"] for e, _ in deliveries)
            raise RuntimeError("the first batch fails outside the inbox")
        return await deliver_many(deliveries)

    monkeypatch.setattr(inbox, "deliver_many", fails_first)
    queue = rabbit_names.queue("unsettled")

    def consumer() -> RabbitEventConsumer:
        return RabbitEventConsumer(
            amqp_url, queue, ["#"], inbox, exchange=rabbit_names.exchange, batch=5
        )

    first = consumer()
    await first.start()
    await first.stop()  # the queue exists and is bound; events wait in it
    labels = [f"e{n}" for n in range(10)]
    publisher = await RabbitPublisher(amqp_url, rabbit_names.exchange).connect()
    await publisher.publish(await recorded(store, *labels))
    await publisher.close()
    draining = consumer()
    await draining.start()
    try:
        await eventually(lambda: left and len(handled) == 10 - len(left), what="the rest handled")
        await asyncio.sleep(0.1)
        assert handled == labels[len(left) :]
    finally:
        await draining.stop()
    assert await _messages_in(amqp_url, queue) == len(left)  # back in the queue, not lost


async def _messages_in(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    try:
        declared = await (await connection.channel()).declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0
    finally:
        await connection.close()
