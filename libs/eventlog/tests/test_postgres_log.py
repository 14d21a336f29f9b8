"""PostgreSQL-only behaviour of the log: gap-free following under concurrent writers
(foundation item 4), idempotent migrations (item 3), and the inbox forgetting by age."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
import pytest

from eventlog import NO_STREAM, ConcurrencyConflict, follow
from eventlog.inbox import forgetting
from eventlog.postgres import PostgresEventStore, Statements
from support_contracts import Envelope
from support_testkit import eventually, stopped

from .factories import new_event, new_events

pytestmark = pytest.mark.integration


class Counting:
    """The store's pool, counting the statements ``query`` it is asked to run, until stop()."""

    def __init__(self, store: PostgresEventStore, query: str) -> None:
        self.store, self.pool, self.query, self.calls = store, store._pool, query, 0
        store._pool = self  # type: ignore[assignment]

    def __getattr__(self, name: str) -> object:
        return getattr(self.pool, name)

    async def fetch(self, query: str, *args: object) -> object:
        self.calls += query == self.query
        return await self.pool.fetch(query, *args)

    async def fetchval(self, query: str, *args: object) -> object:
        self.calls += query == self.query
        return await self.pool.fetchval(query, *args)

    def stop(self) -> None:
        self.store._pool = self.pool


async def test_follower_never_skips_an_event_that_commits_late(
    pg_store: PostgresEventStore,
) -> None:
    async with pg_store.transaction() as slow:
        await slow.append("session-slow", [new_event("slow")], NO_STREAM)
        fast = await pg_store.append("session-fast", [new_event("fast")], NO_STREAM)
        # "fast" is committed, but "slow" holds a smaller position and is still open
        assert await pg_store.read_all() == []
    events = await pg_store.read_all()
    assert [e.stream_id for e in events] == ["session-slow", "session-fast"]
    assert events[1].event_id == fast[0].event_id


async def test_reader_waits_out_an_unrelated_transaction_without_a_notify(
    pg_store: PostgresEventStore, database_url: str
) -> None:
    other = await asyncpg.connect(database_url)
    try:
        blocker = other.transaction()
        await blocker.start()
        await other.fetchval("SELECT pg_current_xact_id()")  # an older transaction id, open
        await pg_store.append("session-a", new_events(1), NO_STREAM)
        assert await pg_store.read_all() == []
        waiter = asyncio.create_task(pg_store.wait_for_events(-1, at_most_seconds=30))
        await blocker.commit()  # sends no NOTIFY: the reader must find out by itself
        await asyncio.wait_for(waiter, 5)
        assert len(await pg_store.read_all()) == 1
    finally:
        await other.close()


async def test_migrations_are_idempotent_and_safe_for_replicas_starting_together(
    database_url: str, pg_schema: str
) -> None:
    stores = await asyncio.gather(
        *(PostgresEventStore.connect(database_url, pg_schema) for _ in range(4))
    )
    await stores[0].append("session-a", new_events(1), NO_STREAM)
    again = await PostgresEventStore.connect(database_url, pg_schema)
    assert len(await again.read_stream("session-a")) == 1
    for store in [*stores, again]:
        await store.close()


async def test_a_bad_schema_name_is_refused_before_connecting(database_url: str) -> None:
    with pytest.raises(ValueError, match="lower-case letters, digits and _ only"):
        await PostgresEventStore.connect(database_url, "x; DROP TABLE y")


WRITERS = 16
TOTAL_EVENTS = 10_000
STREAMS = 40


async def test_gap_free_16_writers_10000_events_follower_sees_each_once_in_order(
    pg_store: PostgresEventStore,
) -> None:
    """Writers open transactions that take their ids early and commit late (random pauses
    inside), on streams they share, so commits land out of position order all the time."""
    written: list[UUID] = []
    remaining = TOTAL_EVENTS

    async def writer(seed: int) -> None:
        nonlocal remaining
        rng = random.Random(seed)
        while remaining > 0:
            count = min(remaining, rng.randint(1, 3))
            remaining -= count
            stream = f"session-{rng.randrange(STREAMS)}"
            events = new_events(count, f"w{seed}-")
            while True:
                try:
                    async with pg_store.transaction() as tx:
                        version = len(await tx.read_stream(stream)) - 1
                        await tx.append(stream, events[:1], version)
                        await asyncio.sleep(rng.random() * 0.003)
                        await tx.append(stream, events[1:], version + 1)
                    break
                except ConcurrencyConflict:
                    await asyncio.sleep(rng.random() * 0.001)
            written.extend(e.event_id for e in events)

    seen: list[tuple[int, str, int, UUID]] = []
    caught_up = asyncio.Event()
    last_position = -1

    async def follower() -> None:
        async for e in follow(pg_store, batch=250, idle_seconds=0.5):
            seen.append((e.global_position, e.stream_id, e.stream_version, e.event_id))
            if e.global_position == last_position:
                caught_up.set()

    following = asyncio.create_task(follower())
    await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    last_position = max(e.global_position for e in await pg_store.read_all(limit=TOTAL_EVENTS))
    if seen and seen[-1][0] == last_position:
        caught_up.set()
    await asyncio.wait_for(caught_up.wait(), 30)
    await stopped(following)

    assert len(written) == TOTAL_EVENTS
    assert sorted(e[3] for e in seen) == sorted(written), "every event exactly once"
    positions = [e[0] for e in seen]
    assert positions == sorted(positions) and len(set(positions)) == TOTAL_EVENTS
    versions: dict[str, list[int]] = defaultdict(list)
    for _, stream, version, _ in seen:
        versions[stream].append(version)
    for stream, order in versions.items():
        assert order == list(range(len(order))), f"{stream} out of order"
    assert await pg_store.read_all(positions[-1]) == []


async def test_the_inbox_forgets_what_was_handled_longer_ago_than_it_keeps(
    pg_store: PostgresEventStore, database_url: str, pg_schema: str
) -> None:
    """Issue 13: the inbox table grew for good. Records older than the service keeps them
    (``INBOX_KEEP_DAYS``) go, in batches, swept by every replica; the recent stay, so a
    redelivery is still recognised."""
    old, recent = [uuid4() for _ in range(25)], uuid4()
    async with pg_store.transaction() as tx:
        for event_id in [*old, recent]:
            assert await tx.record_handled("projector", event_id)
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            f"UPDATE {pg_schema}.inbox SET handled_at = now() - interval '8 days'"
            f" WHERE event_id = ANY($1::uuid[])",
            old,
        )
        task = asyncio.create_task(forgetting(pg_store, keep=timedelta(days=7), every_seconds=60))
        try:

            async def forgotten() -> bool:
                left = await conn.fetchval(f"SELECT count(*) FROM {pg_schema}.inbox")
                return bool(left == 1)

            await eventually(forgotten, what="the old records forgotten")
        finally:
            task.cancel()
    finally:
        await conn.close()
    async with pg_store.transaction() as tx:
        assert not await tx.record_handled("projector", recent)  # still known: a redelivery
        assert await tx.record_handled("projector", old[0])  # forgotten: new again
    assert await pg_store.forget_handled(datetime.now(UTC) + timedelta(days=1), limit=1) == 1


async def test_the_readers_statements_do_not_scan_the_whole_log(
    pg_store: PostgresEventStore, database_url: str, pg_schema: str
) -> None:
    """Issue 13: a reader's wait asked ``EXISTS (... WHERE global_position > $1)``, and the
    generic plan asyncpg's prepared statement gets after a few calls scanned the whole table
    (5.8 ms at 100,000 events, measured, growing with the log). Every statement a reader runs
    again and again stays on an index, whatever the log's size, as a generic plan."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            f"INSERT INTO {pg_schema}.events (global_position, stream_id, stream_version,"
            " event_id, type, schema_version, occurred_at, correlation_id, causation_id, data)"
            " SELECT g::bigint << 16, 'agent-' || g, 0, gen_random_uuid(), 'E', 1, now(),"
            " gen_random_uuid(), gen_random_uuid(), '{}' FROM generate_series(1, 20000) g"
        )
        await conn.execute(f"ANALYZE {pg_schema}.events")
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        sql = Statements(pg_schema)
        for name, statement, arguments in [
            ("any_after", sql.any_after, "(1)"),
            ("read_all", sql.read_all, "(1, 100)"),
            ("read_stream", sql.read_stream, "('agent-7', 0)"),
            ("stream_version", sql.stream_version, "('agent-7')"),
        ]:
            await conn.execute(f"PREPARE {name} AS {statement}")
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN EXECUTE {name}{arguments}"))
            assert "Seq Scan" not in plan, f"{name}:\n{plan}"
    finally:
        await conn.close()


async def test_a_caught_up_reader_waits_without_asking_again_and_misses_no_append(
    pg_store: PostgresEventStore, database_url: str, pg_schema: str
) -> None:
    """Issue 13: after every read a follower asked the database whether anything lay beyond
    (one more statement per event at a low rate, 1.6 per command measured); the read itself
    now says where the log ends, and an append that commits between that read and the wait
    still wakes the reader at once."""
    await pg_store.wait_for_events(-1, at_most_seconds=0.01)  # listening
    await pg_store.append("session-a", new_events(1), NO_STREAM)
    [first] = await pg_store.read_all()
    other = await PostgresEventStore.connect(database_url, pg_schema)
    try:
        asked = Counting(pg_store, pg_store._sql.any_after)
        await other.append("session-b", new_events(1), NO_STREAM)  # after the read, before the wait
        await asyncio.sleep(0.2)  # its NOTIFY arrived before anyone waits
        began = asyncio.get_running_loop().time()
        await pg_store.wait_for_events(first.global_position, at_most_seconds=30)
        assert asyncio.get_running_loop().time() - began < 5
        assert [e.stream_id for e in await pg_store.read_all(first.global_position)] == [
            "session-b"
        ]
        assert asked.calls == 0
    finally:
        asked.stop()
        await other.close()


async def test_readers_at_one_position_at_once_share_one_read(
    pg_store: PostgresEventStore,
) -> None:
    """Issue 13: the outbox relay and a service's own follower wake on the same NOTIFY at the
    same position and each read the log (1.3 reads a command at 200/s). A read already on its
    way from there answers both; one that may have been cut short by its limit does not answer
    a reader that asked for more."""
    await pg_store.append("session-a", new_events(5), NO_STREAM)
    reads = Counting(pg_store, pg_store._sql.read_all)
    try:
        relay, follower = await asyncio.gather(pg_store.read_all(-1, 500), pg_store.read_all(-1))
        assert [e.event_id for e in relay] == [e.event_id for e in follower] and len(relay) == 5
        assert reads.calls == 1
        first, more = await asyncio.gather(pg_store.read_all(-1, 2), pg_store.read_all(-1, 4))
        assert (len(first), len(more), reads.calls) == (2, 4, 3)  # 2 of 5: maybe not all there was
        everything, three = await asyncio.gather(pg_store.read_all(-1), pg_store.read_all(-1, 3))
        assert (len(everything), len(three), reads.calls) == (5, 3, 4)  # the larger answers both
    finally:
        reads.stop()


async def test_a_read_begun_before_this_store_appended_answers_no_later_reader(
    pg_store: PostgresEventStore,
) -> None:
    """Whoever appended gets a read begun after its append (the router catches up after its
    own decisions): a read still on its way from before an append of this store is not shared
    with a reader who comes after that append."""
    await pg_store.append("session-a", new_events(1), NO_STREAM)
    read, answered = pg_store._read_all, asyncio.Event()

    async def slow(after_position: int, limit: int) -> list[Envelope]:
        events = await read(after_position, limit)  # what was there when it began
        await answered.wait()
        return events

    pg_store._read_all = slow  # type: ignore[method-assign]
    relay = asyncio.create_task(pg_store.read_all(-1))
    await asyncio.sleep(0.1)
    pg_store._read_all = read  # type: ignore[method-assign]
    await pg_store.append("session-a", new_events(1), 0)  # the router's own append
    asyncio.get_running_loop().call_later(0.2, answered.set)
    router = await asyncio.wait_for(pg_store.read_all(-1), 5)
    assert [e.stream_version for e in router] == [0, 1]
    assert [e.stream_version for e in await relay] == [0]  # the relay wakes again for it
