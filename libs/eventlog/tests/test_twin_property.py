"""Property: any sequence of appends and transactions does the same to the in-memory log as to
PostgreSQL: the same refusals, the same streams, the same global order (foundation item 7)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventlog import NO_STREAM, ConcurrencyConflict, EventStore, InMemoryEventStore, StreamState
from eventlog.model import Expected
from eventlog.postgres import PostgresEventStore
from support_testkit.plugin import fresh_schema

from .factories import new_event

pytestmark = pytest.mark.integration

EXPECTATIONS = ["right", "stale", "ahead", "any", "no stream", "exists"]
append_op = st.tuples(st.integers(0, 2), st.integers(1, 3), st.sampled_from(EXPECTATIONS))
operation = st.one_of(
    st.tuples(st.just("append"), append_op),
    st.tuples(st.just("transaction"), st.lists(append_op, min_size=1, max_size=3), st.booleans()),
)


async def expected_version(store: Any, stream: str, how: str) -> Expected:
    current = len(await store.read_stream(stream)) - 1
    stale: Expected = current - 1 if current > NO_STREAM else StreamState.EXISTS  # none older
    return {
        "right": current,
        "stale": stale,
        "ahead": current + 1,
        "any": StreamState.ANY,
        "no stream": StreamState.NO_STREAM,
        "exists": StreamState.EXISTS,
    }[how]


async def apply(store: EventStore, operations: list[Any]) -> list[str]:
    outcomes = []
    for n, op in enumerate(operations):
        try:
            if op[0] == "append":
                stream_no, count, how = op[1]
                stream = f"session-{stream_no}"
                events = [new_event(f"{n}.{i}") for i in range(count)]
                await store.append(stream, events, await expected_version(store, stream, how))
            else:
                async with store.transaction() as tx:
                    for k, (stream_no, count, how) in enumerate(op[1]):
                        stream = f"session-{stream_no}"
                        events = [new_event(f"{n}.{k}.{i}") for i in range(count)]
                        await tx.append(stream, events, await expected_version(tx, stream, how))
                    if op[2]:
                        raise RuntimeError("the handler failed")
            outcomes.append("ok")
        except ConcurrencyConflict:
            outcomes.append("conflict")
        except RuntimeError:
            outcomes.append("failed")
    return outcomes


async def log_of(store: EventStore) -> list[tuple[str, int, str]]:
    everything = await store.read_all()
    return [(e.stream_id, e.stream_version, e.data["participant_id"]) for e in everything]


async def both(database_url: str, operations: list[Any]) -> None:
    memory = InMemoryEventStore()
    async with fresh_schema(database_url) as schema:
        pg = await PostgresEventStore.connect(database_url, schema)
        try:
            assert await apply(memory, operations) == await apply(pg, operations)
            assert await log_of(memory) == await log_of(pg)
        finally:
            await pg.close()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_in_memory_twin_behaves_like_postgres(database_url: str, operations: list[Any]) -> None:
    asyncio.run(both(database_url, operations))
