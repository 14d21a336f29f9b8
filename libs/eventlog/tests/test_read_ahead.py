"""Issue 19: a command's record and the streams its decision reads are one round trip
(``Transaction.read_ahead``); what was read ahead answers the decision's reads until the
transaction appends to it."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg

from eventlog import EventStore, Stream, StreamState, Transaction, utc_now, write_in
from eventlog.model import Append, Handling, SystemCause
from eventlog.postgres import PostgresEventStore
from eventlog.writing import History
from support_contracts import Event

from .factories import new_events, pick


def history(events: list[object]) -> History:
    return History(events)  # type: ignore[arg-type]


async def test_issue_19_a_command_read_ahead_decides_on_every_stream_and_applies_once(
    store: EventStore,
) -> None:
    await store.append("session-a", new_events(2, "s"), -1)
    await store.append("csr-a", new_events(1, "c"), -1)
    cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
    seen: list[tuple[int, list[str], list[str], int]] = []

    async def once(tx: Transaction) -> bool:
        async def decide(state: History) -> list[Event]:
            csr = [e.event_id.hex for e in await tx.read_stream("csr-a")]
            none = [e.event_id.hex for e in await tx.read_stream("number-1")]
            seen.append((state.version, csr, none, await tx.stream_version("number-1")))
            return pick("mine")

        written = await write_in(
            tx, Stream("session-a", history), decide, cause,
            now=utc_now(), applied="commands", reads={"csr-a": 0, "number-1": 0},
        )  # fmt: skip
        return written.repeated

    async with store.transaction() as tx:
        assert await once(tx) is False
    async with store.transaction() as tx:
        assert await once(tx) is True  # the same command again: nothing decided, nothing written
    csr = [e.event_id.hex for e in await store.read_stream("csr-a")]
    assert seen == [(1, csr, [], -1)]
    assert len(await store.read_stream("session-a")) == 3


async def test_issue_19_a_stream_read_ahead_then_appended_to_is_read_again(
    store: EventStore,
) -> None:
    await store.append("csr-b", new_events(1, "c"), -1)
    async with store.transaction() as tx:
        assert await tx.read_ahead({"csr-b": 0, "number-2": 0}) is True
        await tx.append("csr-b", new_events(2, "more"), 0)
        await tx.append("number-2", new_events(1, "n"), -1)
        assert [e.stream_version for e in await tx.read_stream("csr-b")] == [0, 1, 2]
        assert [e.stream_version for e in await tx.read_stream("csr-b", 2)] == [2]
        assert await tx.stream_version("csr-b") == 2
        assert await tx.stream_version("number-2") == 0


async def test_issue_19_a_stream_read_ahead_from_a_version_is_read_from_there(
    store: EventStore,
) -> None:
    """A caller that kept a fold of the stream up to a version reads only what came after."""
    await store.append("csr-d", new_events(3, "c"), -1)
    async with store.transaction() as tx:
        await tx.read_ahead({"csr-d": 2, "csr-e": 1})
        assert [e.stream_version for e in await tx.read_stream("csr-d", 2)] == [2]
        assert [e.stream_version for e in await tx.read_stream("csr-d")] == [0, 1, 2]
        assert await tx.read_stream("csr-e", 1) == []
        assert await tx.stream_version("csr-d") == 2
        assert await tx.stream_version("csr-e") == -1


async def test_issue_19_on_postgres_the_record_and_every_read_are_one_statement(
    pg_store: PostgresEventStore,
) -> None:
    """Without ``read_ahead`` the same command took five statements before its append: the
    session's read, the record, three reads."""
    store = pg_store
    await store.append("session-c", new_events(1, "s"), -1)
    await store.append("csr-c", new_events(2, "c"), -1)
    cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
    statements: list[str] = []

    def logged(record: asyncpg.connection.LoggedQuery) -> None:
        statements.append(" ".join(record.query.split())[:40])

    async with store.transaction() as tx:
        tx._conn.add_query_logger(logged)

        async def decide(state: History) -> list[Event]:
            assert len(await tx.read_stream("csr-c")) == 2
            assert await tx.read_stream("site") == []
            assert await tx.stream_version("number-3") == -1
            return pick(f"at-{state.version}")

        await write_in(
            tx, Stream("session-c", history), decide, cause,
            now=utc_now(), applied="commands", reads={"csr-c": 0, "site": 0, "number-3": 0},
        )  # fmt: skip
        await asyncio.sleep(0.05)  # asyncpg calls its query loggers soon after, not at once
        tx._conn.remove_query_logger(logged)
    assert len(statements) == 2, statements  # the read ahead with the record; the append
    assert statements[0].startswith("WITH handled AS ( INSERT INTO")
    [appended] = (await store.read_stream("session-c"))[1:]
    assert appended.data == {"participant_id": "at-0"}


async def test_issue_19_on_postgres_statements_that_take_arrays_are_planned_once(
    database_url: str, pg_schema: str
) -> None:
    """Left to choose, PostgreSQL planned a read ahead (or an append of several streams) again
    at every execution: it estimates ten elements for an array parameter, so the plan it kept
    looked dearer than a fresh one for one to four."""
    store = await PostgresEventStore.connect(database_url, pg_schema, max_size=1)
    try:
        for n in range(8):
            async with store.transaction() as tx:
                await tx.read_ahead({f"session-{n}": 0, "site": 0}, Handling("c", uuid4()))
                await tx.append_streams([
                    Append(f"session-{n}", new_events(2, "s"), -1),
                    Append("csr-p", new_events(1, "c"), StreamState.ANY),
                ])  # fmt: skip
        plans = await store._pool.fetch(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%unnest%' AND statement NOT LIKE '%pg_prepared%'"
        )
    finally:
        await store.close()
    assert len(plans) == 2
    assert all(p["custom_plans"] == 0 and p["generic_plans"] == 8 for p in plans), plans
