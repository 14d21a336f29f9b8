"""Outbox relay and inbox, the same against (in-memory log + in-memory broker) and (PostgreSQL
+ RabbitMQ): foundation items 5, 6, 7."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from eventlog import (
    NO_STREAM,
    EventStore,
    Inbox,
    InMemoryEventStore,
    OutboxRelay,
    StreamState,
    Transaction,
)
from eventlog.postgres import PostgresEventStore
from support_contracts import Envelope
from support_testkit import eventually, stopped
from support_testkit.plugin import RabbitNames, fresh_schema

from .factories import new_event, new_events
from .wiring import MemoryWiring, RabbitWiring, Wiring


@pytest_asyncio.fixture(params=["memory", "postgres+rabbitmq"])
async def stack(request: pytest.FixtureRequest) -> AsyncIterator[tuple[EventStore, Wiring]]:
    if request.param == "memory":
        wiring = MemoryWiring()
        yield InMemoryEventStore(), wiring
        await wiring.close()
        return
    database_url = request.getfixturevalue("database_url")
    amqp_url = request.getfixturevalue("amqp_url")
    names = RabbitNames.fresh()
    async with fresh_schema(database_url) as schema:
        store = await PostgresEventStore.connect(database_url, schema)
        rabbit = RabbitWiring(amqp_url, names)
        yield store, rabbit
        await rabbit.close()
        await store.close()
    await names.delete(amqp_url)


async def start_relay(store: EventStore, wiring: Wiring) -> asyncio.Task[None]:
    relay = OutboxRelay(store, wiring.publisher, idle_seconds=0.2, retry_seconds=0.1)
    return asyncio.create_task(relay.run())


def same(events: list[Envelope]) -> list[str]:
    return [e.model_dump_json() for e in events]


async def test_relay_publishes_only_committed_events_in_global_order(
    stack: tuple[EventStore, Wiring],
) -> None:
    store, wiring = stack
    received = await wiring.listen("everything", ["#"])
    relay = await start_relay(store, wiring)
    try:
        for name in "abc":
            await store.append(f"session-{name}", new_events(3), NO_STREAM)
        with pytest.raises(RuntimeError):
            async with store.transaction() as tx:
                await tx.append("session-rolled-back", new_events(2), NO_STREAM)
                raise RuntimeError("the command failed")
        await store.append("session-d", new_events(1), NO_STREAM)
        stored = await store.read_all()
        await eventually(lambda: len(received) >= len(stored), what="all 10 events published")
        assert same(received) == same(stored)
        assert "session-rolled-back" not in {e.stream_id for e in received}
    finally:
        await stopped(relay)


async def test_relay_publishes_only_what_it_is_told_to_and_keeps_its_place(
    stack: tuple[EventStore, Wiring],
) -> None:
    """A log that also keeps copies of others' events (the media relay's) publishes its own."""
    store, wiring = stack
    received = await wiring.listen("everything", ["#"])
    relay = OutboxRelay(
        store,
        wiring.publisher,
        idle_seconds=0.2,
        publishes=lambda e: e.stream_id.startswith("own-"),
        name="own-only",
    )
    task = asyncio.create_task(relay.run())
    try:
        await store.append("kept-a", new_events(2), NO_STREAM)
        await store.append("own-b", new_events(2), NO_STREAM)
        await store.append("kept-c", new_events(1), NO_STREAM)
        last = (await store.read_all())[-1].global_position
        await eventually(lambda: relay.position == last, what="the relay past every event")
        await eventually(lambda: len(received) == 2, what="the two own events published")
        assert {e.stream_id for e in received} == {"own-b"}
        assert relay.published == 2

        async def saved() -> bool:
            return await store.load_checkpoint("own-only") == last

        await eventually(saved, what="the checkpoint past every event")
    finally:
        await stopped(task)


async def test_relay_resumes_after_its_checkpoint(stack: tuple[EventStore, Wiring]) -> None:
    store, wiring = stack
    received = await wiring.listen("everything", ["#"])
    relay = await start_relay(store, wiring)
    await store.append("session-a", new_events(3), NO_STREAM)
    await eventually(lambda: len(received) == 3)
    first_position = received[-1].global_position

    async def saved() -> bool:
        return await store.load_checkpoint("outbox") == first_position

    await eventually(saved, what="checkpoint saved")
    await stopped(relay)
    await store.append("session-a", new_events(2), 2)
    assert await store.load_checkpoint("outbox") == first_position
    relay = await start_relay(store, wiring)
    try:
        await eventually(lambda: len(received) == 5)
        assert same(received) == same(await store.read_all())
    finally:
        await stopped(relay)


async def test_subscribers_get_only_their_routing_keys(stack: tuple[EventStore, Wiring]) -> None:
    store, wiring = stack
    selected = await wiring.listen("selected", ["session.ActiveCustomerSelected"])
    started = await wiring.listen("started", ["session.SessionStarted", "invite.*"])
    relay = await start_relay(store, wiring)
    try:
        await store.append("session-a", new_events(2), NO_STREAM)
        await eventually(lambda: len(selected) == 2)
        assert started == []
        assert {e.routing_key for e in selected} == {"session.ActiveCustomerSelected"}
    finally:
        await stopped(relay)


async def test_inbox_handles_a_redelivered_event_once(stack: tuple[EventStore, Wiring]) -> None:
    store, wiring = stack
    handled: list[Envelope] = []

    async def project(envelope: Envelope, tx: Transaction) -> None:
        handled.append(envelope)
        await tx.append(f"projection-{envelope.stream_id}", [new_event()], StreamState.ANY)

    await wiring.consume("projector", ["session.#"], Inbox(store, "projector", project))
    [event] = await store.append("session-a", [new_event()], NO_STREAM)
    [sentinel] = await store.append("session-b", [new_event()], NO_STREAM)
    await wiring.publisher.publish([event, event, sentinel])
    await eventually(lambda: sentinel.event_id in {e.event_id for e in handled})
    assert [e.event_id for e in handled] == [event.event_id, sentinel.event_id]
    assert len(await store.read_stream("projection-session-a")) == 1


async def test_failing_event_is_dead_lettered_after_bounded_tries_and_consumer_goes_on(
    stack: tuple[EventStore, Wiring],
) -> None:
    store, wiring = stack
    attempts: Counter[str] = Counter()

    async def project(envelope: Envelope, tx: Transaction) -> None:
        label = envelope.data["participant_id"]
        attempts[label] += 1
        await tx.append("projection", [new_event(label)], StreamState.ANY)
        if label == "poison":
            raise ValueError("cannot project poison")

    await wiring.consume("projector", ["#"], Inbox(store, "projector", project, max_attempts=3))
    [poison] = await store.append("session-a", [new_event("poison")], NO_STREAM)
    [good] = await store.append("session-b", [new_event("good")], NO_STREAM)
    await wiring.publisher.publish([poison, good])
    await eventually(lambda: attempts["good"] == 1, what="the next event handled")
    assert attempts["poison"] == 3
    dead = await eventually(lambda: wiring.dead_letters("projector"), what="a dead letter")
    assert [e.event_id for e, _ in dead] == [poison.event_id]
    assert "ValueError: cannot project poison" in dead[0][1]
    projected = await store.read_stream("projection")
    assert [e.data["participant_id"] for e in projected] == ["good"]


async def test_handler_that_fails_once_leaves_nothing_behind_and_succeeds_on_retry(
    stack: tuple[EventStore, Wiring],
) -> None:
    store, wiring = stack
    tries: list[int] = []

    async def project(envelope: Envelope, tx: Transaction) -> None:
        tries.append(1)
        await tx.append("projection", [new_event(f"try{len(tries)}")], StreamState.ANY)
        if len(tries) == 1:
            raise ConnectionError("a passing fault")

    await wiring.consume("projector", ["#"], Inbox(store, "projector", project))
    [event] = await store.append("session-a", [new_event()], NO_STREAM)
    await wiring.publisher.publish([event])
    projected = await eventually(lambda: store.read_stream("projection"))
    assert [e.data["participant_id"] for e in projected] == ["try2"]
    assert await wiring.dead_letters("projector") == []


async def test_an_outage_is_waited_out_not_dead_lettered(
    stack: tuple[EventStore, Wiring],
) -> None:
    """Issue 13.8: a database outage outlasting the tries sent real events to the dead letter
    queue; an infrastructure error is tried again, uncounted, until it is over."""
    store, wiring = stack
    tries: list[int] = []

    async def project(envelope: Envelope, tx: Transaction) -> None:
        tries.append(1)
        if len(tries) <= 6:  # twice max_attempts: the database still down
            raise ConnectionRefusedError("the database does not answer")
        await tx.append("projection", [new_event("after the outage")], StreamState.ANY)

    inbox = Inbox(store, "projector", project, max_attempts=3)
    await wiring.consume("projector", ["#"], inbox)
    [event] = await store.append("session-a", [new_event()], NO_STREAM)
    await wiring.publisher.publish([event])
    await eventually(lambda: inbox.waiting_out, what="the outage noticed")
    projected = await eventually(lambda: store.read_stream("projection"), within=20)
    assert [e.data["participant_id"] for e in projected] == ["after the outage"]
    assert await wiring.dead_letters("projector") == []
    assert not inbox.waiting_out


async def test_the_relay_records_how_far_it_got_a_few_times_a_second_not_per_event(
    stack: tuple[EventStore, Wiring],
) -> None:
    """Issue 13: at a low rate each event was a batch of its own, and each batch cost a write
    of the checkpoint. Now one record covers what was published in a tenth of a second."""
    store, wiring = stack
    received = await wiring.listen("everything", ["#"])
    saves: list[int] = []
    save_checkpoint = store.save_checkpoint

    async def counting(name: str, position: int) -> None:
        saves.append(position)
        await save_checkpoint(name, position)

    store.save_checkpoint = counting  # type: ignore[method-assign]
    relay = await start_relay(store, wiring)
    try:
        for n in range(40):  # 40 events, one every 10 ms or so: 40 batches
            await store.append(f"session-{n}", new_events(1), NO_STREAM)
            await asyncio.sleep(0.01)
        await eventually(lambda: len(received) == 40, what="every event published")
        last = received[-1].global_position
        await eventually(lambda: saves[-1:] == [last], what="the last position recorded")
        assert len(saves) <= 12, saves
    finally:
        await stopped(relay)
