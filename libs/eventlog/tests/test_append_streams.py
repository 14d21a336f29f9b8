"""Issue 19: an append to several streams at once (``Transaction.append_streams``), one
statement on PostgreSQL: all of it or none, each stream at the version it was expected at."""

from __future__ import annotations

import pytest

from eventlog import ConcurrencyConflict, EventStore, StreamState
from eventlog.model import Append

from .factories import new_events


async def test_issue_19_several_streams_are_appended_at_once_each_numbered_on(
    store: EventStore,
) -> None:
    await store.append("session-a", new_events(2, "s"), -1)
    async with store.transaction() as tx:
        before = await tx.append("other", new_events(1, "o"), -1)  # positions run on from it
        recorded = await tx.append_streams([
            Append("session-a", new_events(2, "s2"), 1),
            Append("csr-a", new_events(1, "c"), StreamState.ANY),
            Append("nothing", [], 5),  # no events: not checked, nothing written
            Append("number-a", new_events(1, "n"), StreamState.NO_STREAM),
        ])  # fmt: skip
    assert [[e.stream_version for e in r] for r in recorded] == [[2, 3], [0], [], [0]]
    positions = [e.global_position for r in recorded for e in r]
    assert positions == sorted(positions) and positions[0] > before[0].global_position
    assert [e.data for e in await store.read_stream("session-a")][2:] == [
        e.data for e in recorded[0]
    ]
    assert [e.event_id for e in await store.read_stream("csr-a")] == [
        e.event_id for e in recorded[1]
    ]


async def test_issue_19_a_stream_not_where_expected_fails_the_whole_append(
    store: EventStore,
) -> None:
    await store.append("session-b", new_events(2, "s"), -1)
    with pytest.raises(ConcurrencyConflict) as conflict:
        async with store.transaction() as tx:
            await tx.append_streams([
                Append("csr-b", new_events(1, "c"), StreamState.ANY),
                Append("session-b", new_events(1, "late"), 0),  # it is at 1
            ])  # fmt: skip
    assert conflict.value.stream_id == "session-b" and conflict.value.actual == 1
    assert await store.read_stream("csr-b") == []
    assert len(await store.read_stream("session-b")) == 2


async def test_issue_19_a_stream_is_named_once_in_an_append_to_several(
    store: EventStore,
) -> None:
    with pytest.raises(ValueError, match="each stream once"):
        async with store.transaction() as tx:
            await tx.append_streams([
                Append("csr-c", new_events(1, "a"), StreamState.ANY),
                Append("csr-c", new_events(1, "b"), StreamState.ANY),
            ])  # fmt: skip
    assert await store.read_stream("csr-c") == []
