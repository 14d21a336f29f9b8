"""The event log in PostgreSQL, one schema per service.

Gap-free global order without a global lock: an event's ``global_position`` is its
transaction's id shifted left by 16 bits plus its index within the transaction. Readers take
only positions below the oldest transaction still running (``pg_snapshot_xmin``): every
transaction with a smaller id has finished, and anything committed later has a larger id, so
nothing can appear behind a reader. Writers never wait for each other except on the same
stream.

Readers wake on a NOTIFY that the writing process sends after its commit, on a connection of
its own: the first at once, then at most one per 5 ms while appends keep coming (they share
it). PostgreSQL gives every notifying transaction an xid and holds a database-wide lock
through its commit's WAL flush (async.c, PreCommit_Notify), so a NOTIFY inside each append
queued every writer behind it (measured: 30% fewer commands per second) and one NOTIFY per
append cost another 20%. Readers also poll, so a writer that dies between its commit and its
NOTIFY delays them by at most their idle interval.

For the order within a stream to match the global order, an append checks the stream's
version in a snapshot taken before its transaction id is assigned: a single statement in
autocommit, or a REPEATABLE READ transaction (:meth:`PostgresEventStore.transaction`). Then
every event it builds on was written by a transaction with a smaller id.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
import structlog

from eventlog.model import Expected, Handling, Lease, NewEvent
from eventlog.postgres_schema import MIGRATIONS, Connection, migrate
from eventlog.postgres_sql import Statements, append_events, envelope_of
from eventlog.postgres_tx import PostgresDecision, PostgresTransaction
from eventlog.turns import woken
from support_contracts import Envelope

log = structlog.get_logger(__name__)

HELD_BACK_RETRY_SECONDS = 0.003
HELD_BACK_RETRY_MOST_SECONDS = 0.5
NOTIFY_WINDOW_SECONDS = 0.005
READS_REMEMBERED = 64


# Every statement here is planned once a connection: asyncpg prepares each, and the plan of
# an index lookup does not depend on its parameters. Left to choose, PostgreSQL planned the
# statements that take arrays (an append of several events or streams, a read ahead) again
# at every execution, estimating ten elements where a command has one to four, so the plan
# it kept looked dearer than a fresh one (pg_prepared_statements: 0 generic, 60 custom;
# measured: 150 µs of PostgreSQL's CPU a read ahead)
GENERIC_PLANS = {"plan_cache_mode": "force_generic_plan"}

TAKEOVER_SECONDS = 0.5
"""How long a replica that took a lock over waits before it works under it."""


async def _watch(conn: asyncpg.Connection, losing: Callable[[], None], *, every: float) -> None:
    """A lock's connection answers, or it is lost: one that stops answering without closing
    (a network cut) is noticed too."""
    while True:
        await asyncio.sleep(every)
        try:
            await conn.fetchval("SELECT 1", timeout=max(every, 2.0))
        except Exception:
            losing()
            return


async def _keep_session(conn: Connection) -> None:
    """asyncpg's default reset on release is a round trip ("SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL;") on every release. Pooled connections here keep no
    session state (locks and LISTEN use connections of their own), so it is skipped; asyncpg
    still rolls back a transaction left open."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec(
        "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog", format="text"
    )


class PostgresEventStore:
    """One service's log. Build it with :meth:`connect`, which also migrates the schema."""

    def __init__(self, pool: asyncpg.Pool, schema: str, dsn: str) -> None:
        self._pool, self._dsn, self.schema = pool, dsn, schema
        self._sql = Statements(schema)
        self._listener: asyncpg.Connection | None = None
        self._listener_lock = asyncio.Lock()
        self._appended = asyncio.Event()
        self._notifying: asyncio.Task[None] | None = None
        self._notify_again = False
        self._notifier: asyncpg.Connection | None = None
        self._held_back: tuple[int, float] = (-2, 0.0)  # (position, next delay) while held
        # the position a read ended at: the last one recorded then, and the wake-up it armed
        self._read_to: OrderedDict[int, tuple[int, asyncio.Event]] = OrderedDict()
        # a read on its way from a position: its limit, its answer, and the commits counted
        # when it began (``read_all``)
        self._reading: dict[int, tuple[int, asyncio.Future[list[Envelope]], int]] = {}
        self._commits = 0  # appends this store committed: a read begun before one is stale

    @classmethod
    async def connect(
        cls, dsn: str, schema: str, *, min_size: int = 1, max_size: int = 10
    ) -> PostgresEventStore:
        Statements(schema)  # refuse a bad name before touching the database
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=_init_connection,
            reset=_keep_session, server_settings=GENERIC_PLANS,
        )  # fmt: skip
        assert pool is not None
        try:
            async with pool.acquire() as conn:
                await migrate(conn, schema)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, schema, dsn)

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        async with self._pool.acquire() as conn:
            recorded = await append_events(conn, self._sql, stream_id, events, expected_version, 0)
        assert recorded is not None  # it is None only when appended once
        self._announce()
        return recorded

    async def append_once(
        self, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
    ) -> list[Envelope] | None:
        if not events:  # the one statement records only with events: the record alone, then
            async with self.transaction() as tx:
                return await tx.append_once(stream_id, events, expected, once)
        async with self._pool.acquire() as conn:
            recorded = await append_events(conn, self._sql, stream_id, events, expected, 0, once)
        if recorded:
            self._announce()
        return recorded

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]:
        rows = await self._pool.fetch(self._sql.read_stream, stream_id, from_version)
        return [envelope_of(row) for row in rows]

    async def read_all(self, after_position: int = -1, limit: int = 1000) -> list[Envelope]:
        """Readers of one log in one process (the outbox relay and a service's own follower)
        wake on the same NOTIFY at the same position: a read from there already on its way
        answers them all, one statement instead of one each. A read that began before a
        commit misses it, but its wake-up was armed before that read began (``_read_to``).
        A read is shared only while this store has committed nothing since it began: whoever
        appended gets a read begun after its append (which still holds the append back while
        an older transaction runs: the router keeps its own changes in its view meanwhile)."""
        shared = self._reading.get(after_position)
        if shared is not None and shared[2] == self._commits:
            shared_limit, reading, _ = shared
            events = await asyncio.shield(reading)
            if shared_limit >= limit or len(events) < shared_limit:  # all there was, then
                return events[:limit]
        reading = asyncio.ensure_future(self._read_all(after_position, limit))
        self._reading[after_position] = (limit, reading, self._commits)
        reading.add_done_callback(functools.partial(self._done_reading, after_position))
        return list(await asyncio.shield(reading))

    def _done_reading(self, after_position: int, reading: asyncio.Future[list[Envelope]]) -> None:
        if self._reading.get(after_position, (0, None, 0))[1] is reading:
            del self._reading[after_position]
        if not reading.cancelled():
            reading.exception()  # retrieved: each reader that awaited it has it raised

    async def _read_all(self, after_position: int, limit: int) -> list[Envelope]:
        listening = self._listener is not None and not self._listener.is_closed()
        armed = self._appended  # set by any NOTIFY from now on, so by any commit not read
        rows = await self._pool.fetch(self._sql.read_all, after_position, limit)
        events = [envelope_of(row) for row in rows if row["global_position"] is not None]
        if listening:
            last = events[-1].global_position if events else after_position
            head = rows[0]["head"]
            self._read_to[last] = (-1 if head is None else int(head), armed)
            while len(self._read_to) > READS_REMEMBERED:
                self._read_to.popitem(last=False)
        return events

    async def stream_version(self, stream_id: str) -> int:
        version: int = await self._pool.fetchval(self._sql.stream_version, stream_id)
        return version

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        async with self._pool.acquire() as conn:
            async with conn.transaction(isolation="repeatable_read"):
                tx = PostgresTransaction(conn, self._sql)
                yield tx
            if tx._next_index:
                self._announce()

    @asynccontextmanager
    async def decision(self) -> AsyncIterator[PostgresDecision]:
        async with self._pool.acquire() as conn:
            decision = PostgresDecision(conn, self._sql)
            yield decision
            await decision.finish()
        if decision.wrote:
            self._announce()

    def _announce(self) -> None:
        """Wake readers after a commit: one NOTIFY in flight, the rest folded into the next."""
        self._commits += 1
        if self._notifying is not None and not self._notifying.done():
            self._notify_again = True
            return
        self._notifying = asyncio.create_task(self._send_notifies())

    async def _send_notifies(self) -> None:
        try:
            if self._notifier is None or self._notifier.is_closed():
                self._notifier = await asyncpg.connect(self._dsn)
            while True:
                self._notify_again = False
                await self._notifier.execute(self._sql.notify)
                await asyncio.sleep(NOTIFY_WINDOW_SECONDS)
                if not self._notify_again:
                    return
        except Exception as error:  # readers still poll; a lost wake-up only delays them
            log.warning("eventlog.notify_failed", schema=self.schema, error=repr(error))

    async def ready(self) -> None:
        """Raises unless the database answers and every migration of the log is applied."""
        applied = await self._pool.fetchval(f"SELECT max(version) FROM {self.schema}.migrations")
        if applied != len(MIGRATIONS):
            raise RuntimeError(f"migrations applied: {applied}, the code has {len(MIGRATIONS)}")

    async def head(self) -> int:
        """The position of the last event recorded, or -1."""
        head = await self._pool.fetchval(self._sql.head)
        return -1 if head is None else int(head)

    async def load_checkpoint(self, name: str) -> int:
        position = await self._pool.fetchval(self._sql.load_checkpoint, name)
        return -1 if position is None else int(position)

    async def save_checkpoint(self, name: str, position: int) -> None:
        await self._pool.execute(self._sql.save_checkpoint, name, position)

    async def forget_handled(self, before: datetime, limit: int = 10_000) -> int:
        """Drops the inbox's records of what was handled before ``before`` (at most
        ``limit``); how many."""
        status = await self._pool.execute(self._sql.forget_handled, before, limit)
        return int(status.split()[-1])

    async def load_snapshot(self, name: str) -> tuple[int, bytes] | None:
        row = await self._pool.fetchrow(self._sql.load_snapshot, name)
        return None if row is None else (int(row["position"]), bytes(row["state"]))

    async def save_snapshot(self, name: str, position: int, state: bytes) -> None:
        await self._pool.execute(self._sql.save_snapshot, name, position, state)

    async def wait_for_events(self, after_position: int, at_most_seconds: float) -> None:
        """Wakes on the NOTIFY sent after every append. Events that are committed but held
        back behind an older running transaction get no NOTIFY when that one ends, so while
        there are any, poll briefly instead."""
        await self._ensure_listener()
        read = self._read_to.get(after_position)
        if read is None:  # not what a read up to here saw: ask
            appended = self._appended
            held_back = await self._pool.fetchval(self._sql.any_after, after_position)
        else:  # a read up to here saw the last position, and was armed before it began
            head, appended = read
            held_back = head > after_position
        if held_back:
            await asyncio.sleep(min(at_most_seconds, self._held_back_delay(after_position)))
            return
        await woken(appended, at_most_seconds)

    def _held_back_delay(self, position: int) -> float:
        """3 ms at first, doubling up to 0.5 s while the same position stays held back (a long
        transaction elsewhere in the cluster)."""
        held_at, delay = self._held_back
        delay = HELD_BACK_RETRY_SECONDS if held_at != position else delay
        self._held_back = (position, min(delay * 2, HELD_BACK_RETRY_MOST_SECONDS))
        return delay

    async def _ensure_listener(self) -> None:
        async with self._listener_lock:
            if self._listener is not None and not self._listener.is_closed():
                return
            conn = await asyncpg.connect(self._dsn)
            await conn.add_listener(self._sql.channel, self._on_notify)
            conn.add_termination_listener(self._on_listener_lost)
            self._listener = conn

    def _on_notify(self, *_: Any) -> None:
        appended, self._appended = self._appended, asyncio.Event()
        appended.set()

    def _on_listener_lost(self, *_: Any) -> None:
        log.warning("eventlog.listener_lost", schema=self.schema)
        self._listener = None
        self._on_notify()

    @asynccontextmanager
    async def exclusive(self, name: str, poll_seconds: float = 1.0) -> AsyncIterator[Lease]:
        """Held by one process at a time across all replicas (a session advisory lock on a
        connection of its own); waits until it is free. If that connection goes (a database
        restart or failover, a network cut), the lock is gone with it and ``lease.lost`` is
        set at once: whoever works under it must stop (``eventlog.lead`` does that). A lock taken
        over from another holder is yielded ``TAKEOVER_SECONDS`` after it is taken: the database
        frees it the moment the last holder's connection goes, while that holder is still
        stopping its work (its loss noticed at once, its work cancelled until it ends: tens of
        milliseconds); two holders working at once in that gap was seen (issue 13.1's test)."""
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        key = f"{self.schema}:{name}"
        try:
            waited = False
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", key):
                waited = True
                await asyncio.sleep(poll_seconds)
            lease = Lease(f"{self.schema}:{name}")

            def losing(*_: Any) -> None:
                if not lease.lost.is_set():
                    log.warning("eventlog.lock_lost", schema=self.schema, lock=name)
                    lease.lost.set()

            conn.add_termination_listener(losing)
            watching = asyncio.create_task(_watch(conn, losing, every=max(poll_seconds, 1.0)))
            if waited:  # taken over: the last holder may still be stopping (see TAKEOVER_SECONDS)
                await asyncio.sleep(TAKEOVER_SECONDS)
            try:
                yield lease
            finally:
                conn.remove_termination_listener(losing)
                watching.cancel()
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def drop(self) -> None:
        """Remove this log's schema and everything in it (demos and tests, never services)."""
        await self._pool.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    async def close(self) -> None:
        if self._notifying is not None:
            await self._notifying
        if self._listener is not None:
            self._listener.remove_termination_listener(self._on_listener_lost)
        for conn in (self._notifier, self._listener):
            if conn is not None:
                await conn.close()
        await self._pool.close()
