"""Issue 15.2: the one write recipe (load, fold, decide, stamp, append at the version folded,
retry on a conflict)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import pytest

from eventlog import ConcurrencyConflict, EventStore, Stream, write
from eventlog.model import SystemCause
from eventlog.writing import History
from support_contracts import Event
from support_contracts.refusals import StateForbids

from .factories import new_events, pick


@dataclass(frozen=True)
class Picked:
    """A fold: the participants picked so far."""

    version: int
    picked: tuple[str, ...]


def picked(events: list[object]) -> Picked:
    names = tuple(e.data["participant_id"] for e in events)  # type: ignore[attr-defined]
    return Picked(len(names) - 1, names)


async def test_issue_15_2_a_write_decides_on_the_fold_and_stamps_its_cause(
    store: EventStore,
) -> None:
    await store.append("session-w", new_events(2, "old"), -1)
    cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
    seen: list[Picked] = []

    def decide(state: Picked) -> list[Event]:
        seen.append(state)
        return pick(f"after-{len(state.picked)}")

    written = await write(store, Stream("session-w", picked), decide, cause)
    assert seen == [Picked(1, ("old0", "old1"))]
    assert written.before == seen[0] and not written.repeated
    [recorded] = written.recorded
    assert recorded.stream_version == 2 and recorded.data == {"participant_id": "after-2"}
    assert recorded.correlation_id == cause.correlation_id
    assert recorded.causation_id == cause.command_id
    assert [e.event_id for e in await store.read_stream("session-w")][-1] == recorded.event_id


async def test_issue_15_2_a_write_that_lost_a_race_decides_again_on_the_new_state(
    pg_store: EventStore,
) -> None:
    """On PostgreSQL, where another writer can commit while a transaction is open (the
    in-memory log runs one transaction at a time)."""
    store = pg_store
    cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
    seen: list[tuple[str, ...]] = []

    async def decide(state: Picked) -> list[Event]:
        seen.append(state.picked)
        if len(seen) == 1:  # another writer gets there first, after this one read
            await store.append("session-r", new_events(1, "other"), -1)
        return pick("mine")

    written = await write(store, Stream("session-r", picked), decide, cause)
    assert seen == [(), ("other0",)]
    assert [e.data["participant_id"] for e in await store.read_stream("session-r")] == [
        "other0",
        "mine",
    ]
    assert written.before.version == 0


async def test_issue_15_2_a_command_is_applied_once_and_a_refusal_writes_nothing(
    store: EventStore,
) -> None:
    cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
    stream = Stream("session-once", History)

    def refuse(state: History) -> list[Event]:
        raise StateForbids("not_now", "not now")

    with pytest.raises(StateForbids):
        await write(store, stream, refuse, cause, applied="commands")
    assert await store.read_stream("session-once") == []  # nor is the command marked applied
    first = await write(store, stream, lambda _: pick("a"), cause, applied="commands")
    again = await write(store, stream, lambda _: pick("a"), cause, applied="commands")
    assert len(first.recorded) == 1 and not first.repeated
    assert again.repeated and again.recorded == [] and again.before.version == 0
    assert len(await store.read_stream("session-once")) == 1


async def test_issue_15_2_a_write_that_keeps_losing_raises_the_last_conflict(
    pg_store: EventStore,
) -> None:
    store = pg_store
    cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
    tries = 0

    async def decide(state: History) -> list[Event]:
        nonlocal tries
        tries += 1
        await store.append("session-l", new_events(1), state.version)  # always first
        return pick("late")

    with pytest.raises(ConcurrencyConflict):
        await write(store, Stream("session-l", History), decide, cause, attempts=3)
    assert tries == 3
    assert len(await store.read_stream("session-l")) == 3
