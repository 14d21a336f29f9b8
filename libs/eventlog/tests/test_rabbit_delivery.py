"""What only the real RabbitMQ and PostgreSQL can show: the wire format, LISTEN/NOTIFY, a relay
killed mid-way, a broker outage, one relay across replicas (foundation items 5, 6)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import aio_pika
import pytest

from eventlog import NO_STREAM, Inbox, OutboxRelay, Transaction
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitPublisher
from support_contracts import Envelope
from support_testkit import eventually, stopped
from support_testkit.proxy import TcpProxy

from .factories import new_events
from .wiring import RabbitWiring

pytestmark = pytest.mark.integration


def unique_in_order(events: list[Envelope]) -> list[str]:
    seen: dict[str, None] = {}
    for e in events:
        seen.setdefault(str(e.event_id), None)
    return list(seen)


async def test_events_are_persistent_json_envelopes_with_routing_key_per_type(
    pg_store: PostgresEventStore, rabbit: RabbitWiring
) -> None:
    await rabbit.listen("raw", ["session.*"])
    [stored] = await pg_store.append("session-a", new_events(1), NO_STREAM)
    await rabbit.publisher.publish([stored])
    [message] = await eventually(lambda: rabbit.raw.get("raw"))
    assert message.routing_key == "session.ActiveCustomerSelected"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.content_type == "application/json"
    assert message.message_id == str(stored.event_id)
    assert message.type == "ActiveCustomerSelected"
    body = json.loads(message.body)
    assert set(body) == {
        "event_id", "type", "schema_version", "stream_id", "stream_version",
        "global_position", "occurred_at", "correlation_id", "causation_id", "data",
    }  # fmt: skip
    assert body["occurred_at"].endswith("Z") and body["stream_version"] == 0


def envelope(**changed: object) -> bytes:
    """A well-formed envelope of ActiveCustomerSelected, with ``changed`` fields."""
    body = {
        "event_id": str(uuid4()), "type": "ActiveCustomerSelected", "schema_version": 1,
        "stream_id": "session-a", "stream_version": 0, "global_position": 1,
        "occurred_at": "2026-12-02T12:00:00.000000Z", "correlation_id": str(uuid4()),
        "causation_id": str(uuid4()), "data": {"participant_id": "p"},
    }  # fmt: skip
    return json.dumps({**body, **changed}).encode()


@pytest.mark.parametrize(
    "body",
    [
        b'{"not": "an envelope"}',
        b"{not json",
        envelope(type="NoSuchEvent"),
        envelope(data={"participant_id": "p", "x": 1}),
    ],
    ids=["not an envelope", "not json", "an unknown type", "data not of its type"],
)
async def test_a_message_that_is_not_a_valid_event_is_dead_lettered_at_once(
    pg_store: PostgresEventStore, rabbit: RabbitWiring, amqp_url: str, body: bytes
) -> None:
    """Issue 13.9: poison is dead-lettered before any handler sees it; the next event is
    handled."""
    handled: list[Envelope] = []

    async def project(envelope: Envelope, tx: Transaction) -> None:
        handled.append(envelope)

    await rabbit.consume("projector", ["#"], Inbox(pg_store, "projector", project))
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await channel.get_exchange(rabbit.names.exchange)
    await exchange.publish(aio_pika.Message(body), "session.Garbage")
    [good] = await pg_store.append("session-a", new_events(1), NO_STREAM)
    await rabbit.publisher.publish([good])
    await eventually(lambda: handled, what="the next event handled")
    assert [e.event_id for e in handled] == [good.event_id]
    dead = await eventually(lambda: rabbit.next_dead_letter("projector"), what="a dead letter")
    assert dead.body == body
    assert "ContractViolation" in str(dead.headers["x-error"])
    assert dead.headers["x-original-routing-key"] == "session.Garbage"
    await connection.close()


async def test_relay_is_woken_by_notify_not_by_polling(
    pg_store: PostgresEventStore, rabbit: RabbitWiring
) -> None:
    received = await rabbit.listen("all", ["#"])
    relay = OutboxRelay(pg_store, rabbit.publisher, idle_seconds=60)
    task = asyncio.create_task(relay.run())
    try:
        await eventually(lambda: relay.leading)
        await asyncio.sleep(0.2)  # let the relay settle into its 60-second idle wait
        await pg_store.append("session-a", new_events(1), NO_STREAM)
        await eventually(lambda: received, within=5, what="publish long before the 60 s poll")
    finally:
        await stopped(task)


async def test_relay_killed_between_publish_and_checkpoint_loses_nothing(
    pg_store: PostgresEventStore, rabbit: RabbitWiring, database_url: str, amqp_url: str
) -> None:
    received = await rabbit.listen("all", ["#"])
    for n in range(4):
        await pg_store.append(f"session-{n}", new_events(5), NO_STREAM)
    stored = await pg_store.read_all()
    script = Path(__file__).with_name("relay_that_crashes.py")
    crashed = await asyncio.create_subprocess_exec(
        sys.executable, str(script), database_url, pg_store.schema, amqp_url,
        rabbit.names.exchange, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(crashed.communicate(), 60)
    assert crashed.returncode == 9, stderr.decode()
    assert "confirmed 5" in stdout.decode()
    assert await pg_store.load_checkpoint("outbox") == -1  # it died before recording
    await eventually(lambda: len(received) == 5, what="the first batch on the broker")

    publisher = RabbitPublisher(amqp_url, rabbit.names.exchange)
    task = asyncio.create_task(OutboxRelay(pg_store, publisher).run())
    try:
        await eventually(lambda: len(received) == 25, what="the first batch again, then the rest")
        assert unique_in_order(received) == [str(e.event_id) for e in stored]
        assert [e.event_id for e in received[5:10]] == [e.event_id for e in stored[:5]]
    finally:
        await stopped(task)
        await publisher.close()


async def test_relay_resumes_after_the_broker_goes_away_and_comes_back(
    pg_store: PostgresEventStore, rabbit: RabbitWiring, amqp_url: str
) -> None:
    received = await rabbit.listen("all", ["#"])
    target = urlsplit(amqp_url)
    proxy = await TcpProxy(target.hostname or "127.0.0.1", target.port or 5672).start()
    via_proxy = f"amqp://{target.username}:{target.password}@127.0.0.1:{proxy.port}/"
    publisher = RabbitPublisher(via_proxy, rabbit.names.exchange)
    relay = OutboxRelay(pg_store, publisher, idle_seconds=0.2, retry_seconds=0.2)
    task = asyncio.create_task(relay.run())
    try:
        await pg_store.append("session-a", new_events(3), NO_STREAM)
        await eventually(lambda: len(received) == 3)
        await proxy.cut()
        await pg_store.append("session-a", new_events(3), 2)
        await asyncio.sleep(0.5)  # the relay meets the outage and keeps retrying
        assert len(received) == 3
        await proxy.restore()
        await eventually(lambda: len(unique_in_order(received)) == 6, within=30)
        stored = await pg_store.read_all()
        assert unique_in_order(received) == [str(e.event_id) for e in stored]
    finally:
        await stopped(task)
        await publisher.close()
        await proxy.close()


async def test_one_relay_publishes_at_a_time_across_replicas(
    pg_store: PostgresEventStore, rabbit: RabbitWiring, database_url: str, amqp_url: str
) -> None:
    received = await rabbit.listen("all", ["#"])
    replica = await PostgresEventStore.connect(database_url, pg_store.schema)
    publishers = [RabbitPublisher(amqp_url, rabbit.names.exchange) for _ in range(2)]
    first = OutboxRelay(pg_store, publishers[0])
    second = OutboxRelay(replica, publishers[1])
    first_task = asyncio.create_task(first.run())
    await eventually(lambda: first.leading)
    second_task = asyncio.create_task(second.run())
    try:
        await pg_store.append("session-a", new_events(5), NO_STREAM)
        await eventually(lambda: first.published == 5)
        assert len(received) == 5 and not second.leading and second.published == 0
        await stopped(first_task)
        await replica.append("session-a", new_events(3), 4)
        await eventually(lambda: second.published == 3, within=15, what="the replica took over")
        await eventually(lambda: len(received) == 8)
        assert len(unique_in_order(received)) == 8
    finally:
        await stopped(first_task, second_task)
        for publisher in publishers:
            await publisher.close()
        await replica.close()


async def test_dead_letter_says_how_often_it_was_tried(
    pg_store: PostgresEventStore, rabbit: RabbitWiring
) -> None:
    async def fail(envelope: Envelope, tx: Transaction) -> None:
        raise LookupError("no such session")

    await rabbit.consume("projector", ["#"], Inbox(pg_store, "projector", fail, max_attempts=3))
    [event] = await pg_store.append("session-a", new_events(1), NO_STREAM)
    await rabbit.publisher.publish([event])
    dead = await eventually(lambda: rabbit.next_dead_letter("projector"), what="a dead letter")
    assert dead.headers["x-attempts"] == 3
    assert dead.headers["x-error"] == "LookupError: no such session"
    assert dead.headers["x-consumer"] == "projector"
