"""The event log's behaviour, the same for PostgreSQL and in memory (foundation items 3, 7)."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import pytest

from eventlog import (
    NO_STREAM,
    ConcurrencyConflict,
    DuplicateEvent,
    EventStore,
    Handling,
    StreamState,
)
from support_testkit import eventually

from .factories import new_event, new_events


async def test_append_and_read_a_stream_in_order(store: EventStore) -> None:
    written = await store.append("session-a", new_events(3), NO_STREAM)
    read = await store.read_stream("session-a")
    assert [e.stream_version for e in read] == [0, 1, 2]
    assert [e.event_id for e in read] == [e.event_id for e in written]
    assert [e.global_position for e in read] == sorted({e.global_position for e in read})
    assert read[0].data == {"participant_id": "p0"}
    assert await store.stream_version("session-a") == 2
    assert await store.stream_version("session-none") == NO_STREAM
    assert [e.stream_version for e in await store.read_stream("session-a", 2)] == [2]


async def test_wrong_expected_version_is_a_conflict_and_writes_nothing(store: EventStore) -> None:
    await store.append("session-a", new_events(2), NO_STREAM)
    with pytest.raises(ConcurrencyConflict, match="expected at version 0, found version 1"):
        await store.append("session-a", new_events(1), 0)
    with pytest.raises(ConcurrencyConflict):
        await store.append("session-a", new_events(1), NO_STREAM)
    assert len(await store.read_stream("session-a")) == 2
    assert len(await store.read_all()) == 2


async def test_any_version_appends_at_the_end(store: EventStore) -> None:
    await store.append("session-a", new_events(1), NO_STREAM)
    written = await store.append("session-a", new_events(1), StreamState.ANY)
    assert written[0].stream_version == 1


async def test_issue_15_2_an_append_says_where_it_expects_the_stream_by_its_state(
    store: EventStore,
) -> None:
    with pytest.raises(ConcurrencyConflict, match="expected at an existing stream, found"):
        await store.append("session-a", new_events(1), StreamState.EXISTS)
    await store.append("session-a", new_events(1), StreamState.NO_STREAM)
    with pytest.raises(ConcurrencyConflict, match="expected at no stream, found version 0"):
        await store.append("session-a", new_events(1), StreamState.NO_STREAM)
    [second] = await store.append("session-a", new_events(1), StreamState.EXISTS)
    assert second.stream_version == 1
    async with store.transaction() as tx:  # within a transaction, and in one statement, alike
        [third] = await tx.append("session-a", new_events(1), StreamState.EXISTS)
    assert third.stream_version == 2
    with pytest.raises(ConcurrencyConflict):  # the one-statement append checks it too
        await store.append_once(
            "session-b", new_events(1), StreamState.EXISTS, Handling("commands", uuid4())
        )
    assert await store.read_stream("session-b") == []
    [fourth] = await store.append_once(
        "session-a", new_events(1), StreamState.EXISTS, Handling("commands", uuid4())
    ) or [None]
    assert fourth is not None and fourth.stream_version == 3
    with pytest.raises(ValueError, match="not an expected version"):
        await store.append("session-a", new_events(1), -2)
    assert len(await store.read_stream("session-a")) == 4


async def test_events_of_one_transaction_commit_together_or_not_at_all(store: EventStore) -> None:
    await store.append("session-b", new_events(1), NO_STREAM)
    with pytest.raises(ConcurrencyConflict):
        async with store.transaction() as tx:
            await tx.append("session-a", new_events(3), NO_STREAM)
            await tx.append("session-b", new_events(1), NO_STREAM)  # b exists: refused
    assert await store.read_stream("session-a") == []
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.append("session-a", new_events(3), NO_STREAM)
            raise RuntimeError("the handler failed")
    assert await store.read_stream("session-a") == []
    async with store.transaction() as tx:
        await tx.append("session-a", new_events(2), NO_STREAM)
        await tx.append("session-b", new_events(1), 0)
    assert len(await store.read_all()) == 4


async def test_a_transaction_sees_its_own_versions(store: EventStore) -> None:
    async with store.transaction() as tx:
        assert await tx.stream_version("session-a") == NO_STREAM
        first = await tx.append("session-a", new_events(1), NO_STREAM)
        assert await tx.stream_version("session-a") == 0
        second = await tx.append("session-a", new_events(1), 0)
    assert (first[0].stream_version, second[0].stream_version) == (0, 1)
    assert first[0].global_position < second[0].global_position
    stored = await store.read_stream("session-a")
    assert [e.global_position for e in stored] == [
        first[0].global_position,
        second[0].global_position,
    ]


async def test_a_duplicate_event_id_is_refused_and_writes_nothing(store: EventStore) -> None:
    event = new_event()
    await store.append("session-a", [event], NO_STREAM)
    with pytest.raises(DuplicateEvent):
        await store.append("session-b", [event], NO_STREAM)
    assert await store.read_stream("session-b") == []


async def test_read_all_pages_in_global_order(store: EventStore) -> None:
    for name in "abcde":
        await store.append(f"session-{name}", new_events(3), NO_STREAM)
    everything = await store.read_all()
    assert len(everything) == 15
    positions = [e.global_position for e in everything]
    assert positions == sorted(positions)
    page = await store.read_all(after_position=positions[4], limit=5)
    assert [e.global_position for e in page] == positions[5:10]


async def test_inbox_records_an_event_once_and_only_with_its_transaction(
    store: EventStore,
) -> None:
    event_id = uuid4()
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            assert await tx.record_handled("routing", event_id)
            raise RuntimeError("handler failed")
    async with store.transaction() as tx:
        assert await tx.record_handled("routing", event_id)  # the failed try left nothing
    async with store.transaction() as tx:
        assert not await tx.record_handled("routing", event_id)
        assert await tx.record_handled("invite", event_id)  # another consumer's own record


async def test_append_once_records_the_command_with_its_events_in_one_statement(
    store: EventStore,
) -> None:
    """Issue 13: a command's events and the record that it was applied, in one round trip; a
    redelivery writes nothing and says so (None)."""
    command_id = uuid4()
    first = await store.append_once(
        "agent-a", new_events(1), NO_STREAM, Handling("commands", command_id)
    )
    assert first is not None and [e.stream_version for e in first] == [0]
    again = await store.append_once("agent-a", new_events(2), 0, Handling("commands", command_id))
    assert again is None
    assert len(await store.read_stream("agent-a")) == 1
    many = await store.append_once("agent-a", new_events(2), 0, Handling("commands", uuid4()))
    assert many is not None and [e.stream_version for e in many] == [1, 2]
    async with store.transaction() as tx:  # the inbox has both records
        assert not await tx.record_handled("commands", command_id)
    nothing = uuid4()  # a command that changes nothing is recorded all the same
    assert await store.append_once("agent-a", [], 2, Handling("commands", nothing)) == []
    assert await store.append_once("agent-a", [], 2, Handling("commands", nothing)) is None


async def test_append_once_at_a_wrong_version_is_a_conflict_and_records_nothing(
    store: EventStore,
) -> None:
    await store.append("agent-a", new_events(2), NO_STREAM)
    command_id = uuid4()
    for events in (new_events(1), new_events(3)):
        with pytest.raises(ConcurrencyConflict, match="found version 1"):
            await store.append_once("agent-a", events, 0, Handling("commands", command_id))
    assert len(await store.read_stream("agent-a")) == 2
    async with store.transaction() as tx:  # not recorded as applied: it can be tried again
        assert await tx.record_handled("commands", command_id)


async def test_commands_appended_once_at_the_same_time_write_one_of_them(
    store: EventStore,
) -> None:
    """The same command twice (a redelivery beside the first) and other commands on the same
    stream at once: the command is applied once, every other one wins or conflicts."""
    command_id = uuid4()

    async def send(handled_id: UUID) -> str:
        try:
            written = await store.append_once(
                "agent-hot", new_events(1), NO_STREAM, Handling("c", handled_id)
            )
        except ConcurrencyConflict:
            return "conflict"
        return "before" if written is None else "written"

    outcomes = await asyncio.gather(send(command_id), send(command_id), send(uuid4()))
    assert outcomes.count("written") == 1
    assert len(await store.read_stream("agent-hot")) == 1


async def test_checkpoints_only_move_forward(store: EventStore) -> None:
    assert await store.load_checkpoint("outbox") == -1
    await store.save_checkpoint("outbox", 10)
    await store.save_checkpoint("outbox", 7)
    assert await store.load_checkpoint("outbox") == 10
    await store.save_checkpoint("outbox", 12)
    assert await store.load_checkpoint("outbox") == 12


async def test_a_snapshot_is_kept_by_name_and_only_a_later_one_replaces_it(
    store: EventStore,
) -> None:
    assert await store.load_snapshot("relay-view") is None
    await store.save_snapshot("relay-view", 10, b"\x00at ten")
    await store.save_snapshot("relay-view", 7, b"at seven")  # a slower replica's, older
    assert await store.load_snapshot("relay-view") == (10, b"\x00at ten")
    await store.save_snapshot("relay-view", 12, b"at twelve")
    assert await store.load_snapshot("relay-view") == (12, b"at twelve")
    assert await store.load_snapshot("console-watch") is None


async def test_waiting_reader_wakes_on_append(store: EventStore) -> None:
    last = -1
    waiter = asyncio.create_task(store.wait_for_events(last, at_most_seconds=30))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await store.append("session-a", new_events(1), NO_STREAM)
    await asyncio.wait_for(waiter, 5)  # woken by the append, long before 30 s
    assert len(await store.read_all(last)) == 1


async def test_a_waiting_reader_cancelled_as_it_is_woken_is_cancelled(store: EventStore) -> None:
    """Python 3.11's ``asyncio.wait_for`` returned instead of raising when the cancellation
    came in the same moment as the wake-up: a router stopped so went on turning, and the stop
    waited for ever (issue 18's race test, in CI). The wake-up here is what an append (in
    memory) or its NOTIFY (PostgreSQL) calls, right before the cancellation."""
    waiter = asyncio.create_task(store.wait_for_events(-1, at_most_seconds=30))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    wake = getattr(store, "_on_notify", None) or store._on_append  # type: ignore[attr-defined]
    wake()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiter, 5)


async def test_a_reader_woken_already_lets_the_rest_run_before_reading_again(
    store: EventStore,
) -> None:
    """A follower reads, then waits: when the wake-up came between the two, the wait returns
    at once, but through the event loop. Without that, a relay went round reading a finished
    shared read and waiting on a set event, never letting the loop run again (issue 18's
    race test: its process missed its heartbeats and grew to 6 GB of timer handles)."""
    await store.wait_for_events(-1, at_most_seconds=0.01)  # listening from here on
    await store.append("session-a", new_events(1), NO_STREAM)
    events = await store.read_all(-1)
    wake = getattr(store, "_on_notify", None) or store._on_append  # type: ignore[attr-defined]
    wake()
    ran: list[bool] = []
    asyncio.get_running_loop().call_soon(ran.append, True)
    await store.wait_for_events(events[-1].global_position, at_most_seconds=0.5)
    assert ran


async def test_concurrent_writers_to_one_stream_keep_stream_and_global_order(
    store: EventStore,
) -> None:
    async def writer(n: int) -> None:
        for _ in range(10):
            while True:
                version = await store.stream_version("session-hot")
                try:
                    await store.append("session-hot", new_events(2, f"w{n}-"), version)
                    break
                except ConcurrencyConflict:
                    await asyncio.sleep(0)

    await asyncio.gather(*(writer(n) for n in range(8)))
    in_global_order = [e for e in await store.read_all() if e.stream_id == "session-hot"]
    assert [e.stream_version for e in in_global_order] == list(range(160))


async def test_exclusive_is_held_by_one_holder_at_a_time(store: EventStore) -> None:
    holders: list[str] = []

    async def hold(who: str, release: asyncio.Event) -> None:
        async with store.exclusive("relay:outbox"):
            holders.append(who)
            await release.wait()

    first_done, second_done = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(hold("first", first_done))
    await eventually(lambda: holders == ["first"])
    second = asyncio.create_task(hold("second", second_done))
    await asyncio.sleep(0.2)
    assert holders == ["first"]  # the second waits
    first_done.set()
    await eventually(lambda: holders == ["first", "second"], within=5)
    second_done.set()
    await asyncio.gather(first, second)
