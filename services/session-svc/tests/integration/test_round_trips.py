"""Issue 19: the statements each command of a session's life costs on PostgreSQL. A command's
record, its session and every other stream its decision reads (the site's settings, the csr's,
the number it tries first) are one statement (``Transaction.read_ahead``), and what it writes
to the session, the csrs' ledgers and the number another (``Transaction.append_streams``),
with no BEGIN and COMMIT around them (``EventStore.decision``: the write checks that nothing
read moved, and records the command). Before, each was one of its own: 10, 8 and 7 statements
for a start, a join by number and an end (a join by number read the session once more,
outside the transaction, to learn its id); then 4, 5 and 4 in a transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar
from uuid import UUID

import asyncpg

from eventlog.postgres import PostgresEventStore
from session_svc.writing import SessionLog
from support_contracts.session import EndSession, JoinAsCustomer
from support_testkit.plugin import fresh_schema

from .test_writing import handlers, run, start

T = TypeVar("T")


async def test_issue_19_a_start_a_join_by_number_and_an_end_cost_2_3_and_2_statements(
    database_url: str,
) -> None:
    async with fresh_schema(database_url) as schema:
        store = await PostgresEventStore.connect(database_url, schema, max_size=1)
        statements: list[str] = []

        def logged(record: asyncpg.connection.LoggedQuery) -> None:
            statements.append(" ".join(record.query.split())[:60])

        async def counted(step: Awaitable[T]) -> tuple[T, list[str]]:
            statements.clear()
            done = await step
            await asyncio.sleep(0.05)  # asyncpg calls its query loggers soon after, not at once
            return done, list(statements)

        try:
            async with store._pool.acquire() as conn:  # the pool's one connection
                conn.add_query_logger(logged)
            h: SessionLog = handlers(store)
            for _ in range(2):  # the second time, asyncpg knows every statement and type
                started, began = await counted(start(h))
                number, session_id = started["session_number"], UUID(started["session_id"])
                _, joined = await counted(
                    run(h, JoinAsCustomer, None, session_number=number, name="Carol")
                )
                _, ended = await counted(run(h, EndSession, "alice", session_id=session_id))
        finally:
            await store.close()
    assert len(began) == 2, began  # the read ahead: the session, csr and number; the write
    assert len(joined) == 3, joined  # the number's stream, the read ahead, the write
    assert len(ended) == 2, ended  # the read ahead, the write: the session, csr and number
    for decision in (began, joined[1:], ended):
        assert decision[0].startswith("SELECT e.*") and decision[1].startswith("WITH given AS")
