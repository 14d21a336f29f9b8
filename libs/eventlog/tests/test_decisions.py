"""Issue 19: a decision without BEGIN and COMMIT (``EventStore.decision``): its reads, then one
write that commits it. What it read must not have moved when it writes: a stream it appends to
is checked at the version read (even when the append expects ``ANY``), one it only read by a
look for a later event; and the command it applies is recorded with its events, once."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
import pytest

from eventlog import ConcurrencyConflict, EventStore, StreamState
from eventlog.model import Append, Handling
from eventlog.postgres import PostgresEventStore

from .factories import new_events

COMMAND = "commands"


async def test_a_decision_reads_and_writes_with_the_commands_record(store: EventStore) -> None:
    await store.append("session-a", new_events(2), StreamState.NO_STREAM)
    record = Handling(COMMAND, uuid4())
    async with store.decision() as tx:
        assert await tx.read_ahead({"session-a": 0, "site": 0}, record) is True
        assert [e.stream_version for e in await tx.read_stream("session-a")] == [0, 1]
        assert await tx.stream_version("site") == -1
        written = await tx.append_streams(
            [Append("session-a", new_events(1), 1), Append("csr-a", new_events(2), StreamState.ANY)]
        )
    assert [[e.stream_version for e in w] for w in written] == [[2], [0, 1]]
    async with store.decision() as tx:  # the same command: recorded with the events
        assert await tx.read_ahead({"session-a": 0}, record) is False


async def test_a_command_that_decides_nothing_is_recorded_when_the_decision_ends(
    store: EventStore,
) -> None:
    record = Handling(COMMAND, uuid4())
    async with store.decision() as tx:
        assert await tx.read_ahead({"session-b": 0}, record) is True
    async with store.decision() as tx:
        assert await tx.read_ahead({"session-b": 0}, record) is False
    with pytest.raises(RuntimeError):  # refused before the end: nothing recorded
        async with store.decision() as tx:
            again = Handling(COMMAND, uuid4())
            assert await tx.read_ahead({"session-b": 0}, again) is True
            raise RuntimeError("refused")
    async with store.decision() as tx:
        assert await tx.read_ahead({"session-b": 0}, again) is True


async def test_a_stream_only_read_that_moved_before_the_write_is_a_conflict(
    pg_store: PostgresEventStore,
) -> None:
    """Stricter than the transaction, whose snapshot would not have seen the move."""
    await pg_store.append("site", new_events(1), StreamState.NO_STREAM)
    async with pg_store.decision() as tx:
        await tx.read_ahead({"session-c": 0, "site": 0})
        await pg_store.append("site", new_events(1), 0)  # another writer, between
        with pytest.raises(ConcurrencyConflict):
            await tx.append_streams([Append("session-c", new_events(1), StreamState.NO_STREAM)])
    assert await pg_store.read_stream("session-c") == []
    async with pg_store.decision() as tx:  # read again: it stands
        await tx.read_ahead({"session-c": 0, "site": 0})
        await tx.append_streams([Append("session-c", new_events(1), StreamState.NO_STREAM)])
    assert len(await pg_store.read_stream("session-c")) == 1


async def test_a_stream_read_then_appended_to_at_any_version_is_checked_at_the_version_read(
    pg_store: PostgresEventStore,
) -> None:
    """S2's ledger and S1's number are appended at ``ANY``: in a decision, where they were read."""
    async with pg_store.decision() as tx:
        assert await tx.read_stream("number-1") == []  # (not read ahead: read on its own)
        await pg_store.append("number-1", new_events(1), StreamState.NO_STREAM)  # taken, between
        with pytest.raises(ConcurrencyConflict):
            await tx.append_streams([Append("number-1", new_events(1), StreamState.ANY)])
    assert len(await pg_store.read_stream("number-1")) == 1


async def test_two_decisions_of_one_command_write_it_once(pg_store: PostgresEventStore) -> None:
    record = Handling(COMMAND, uuid4())
    first, second = pg_store.decision(), pg_store.decision()
    tx1, tx2 = await first.__aenter__(), await second.__aenter__()
    try:
        assert await tx1.read_ahead({"session-d": 0}, record) is True
        assert await tx2.read_ahead({"session-e": 0}, record) is True  # neither has written yet
        await tx1.append_streams([Append("session-d", new_events(1), StreamState.NO_STREAM)])
        with pytest.raises(ConcurrencyConflict):  # its record is there now
            await tx2.append_streams([Append("session-e", new_events(1), StreamState.NO_STREAM)])
        with pytest.raises(RuntimeError):  # and a decision writes once
            await tx1.append_streams([Append("session-d", new_events(1), 0)])
    finally:
        await asyncio.gather(first.__aexit__(None, None, None), second.__aexit__(None, None, None))
    assert len(await pg_store.read_stream("session-d")) == 1
    assert await pg_store.read_stream("session-e") == []


async def test_a_decision_takes_no_transaction_on_postgres(pg_store: PostgresEventStore) -> None:
    """Two statements: the read ahead and the write, each committed as it ran."""
    statements: list[str] = []

    def logged(query: asyncpg.connection.LoggedQuery) -> None:
        statements.append(query.query.split()[0])

    for n in range(2):  # the second time, asyncpg knows every statement and type
        async with pg_store.decision() as tx:
            statements.clear()
            tx._conn.add_query_logger(logged)  # type: ignore[attr-defined]
            await tx.read_ahead({f"session-{n}": 0}, Handling(COMMAND, uuid4()))
            await tx.append_streams([Append(f"session-{n}", new_events(1), StreamState.NO_STREAM)])
            await asyncio.sleep(0.05)  # asyncpg calls its query loggers soon after, not at once
            tx._conn.remove_query_logger(logged)  # type: ignore[attr-defined]
    assert statements == ["SELECT", "WITH"]
