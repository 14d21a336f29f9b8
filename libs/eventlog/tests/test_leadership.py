"""One replica at a time (the outbox relay, the console watch, e-mail delivery, the router):
when the lock's connection goes (a database failover, a network cut), its holder is stopped at
once, another replica takes over, and the first waits its turn again; never two at once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest

from eventlog import lead
from eventlog.postgres import PostgresEventStore
from support_testkit.locks import lock_holder
from support_testkit.plugin import fresh_schema
from support_testkit.waiting import eventually

pytestmark = pytest.mark.integration


class Replica:
    def __init__(self, name: str) -> None:
        self.name, self.leads, self.working = name, 0, False

    async def work(self, everyone: list[Replica]) -> None:
        self.leads += 1
        self.working = True
        assert sum(r.working for r in everyone) == 1, "two replicas working at once"
        try:
            await asyncio.Event().wait()
        finally:
            self.working = False


@asynccontextmanager
async def contending(
    database_url: str, replicas: list[Replica]
) -> AsyncIterator[Callable[[], Awaitable[Replica]]]:
    """Each replica leads ``job`` on a store of its own; yields the failover: the holder's lock
    connection terminated, returning the replica that held it."""
    async with fresh_schema(database_url) as schema:
        stores = [await PostgresEventStore.connect(database_url, schema) for _ in replicas]
        tasks = [
            asyncio.create_task(
                lead(
                    store, "job", lambda r=r: r.work(replicas), retry_seconds=0.1, poll_seconds=0.1
                )
            )
            for store, r in zip(stores, replicas, strict=True)
        ]
        admin = await asyncpg.connect(database_url)

        async def failover() -> Replica:
            await eventually(lambda: sum(r.leads for r in replicas) == 1, what="one leader")
            first = next(r for r in replicas if r.working)
            pid = await lock_holder(admin, f"{schema}:job")
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            return first

        try:
            yield failover
            assert all(not t.done() for t in tasks)  # nobody gave up: all still contend
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await admin.close()
            for store in stores:
                await store.close()


async def test_a_lock_lost_with_its_connection_stops_its_holder_and_another_takes_over(
    database_url: str,
) -> None:
    replicas = [Replica("a"), Replica("b")]
    async with contending(database_url, replicas) as failover:
        first = await failover()
        await eventually(lambda: sum(r.leads for r in replicas) == 2, what="a new leader")
        assert sum(r.working for r in replicas) == 1
        assert not first.working or first.leads == 2  # stopped, or it took the lock again


class CarelessReplica(Replica):
    """Works like the outbox relay's loop: a database call whose cancellation surfaces as an
    error (asyncpg releasing a dead connection does that), caught and retried after a pause."""

    async def work(self, everyone: list[Replica]) -> None:
        self.leads += 1
        self.working = True
        try:
            while True:
                try:
                    try:
                        await asyncio.sleep(0.01)
                    except asyncio.CancelledError:
                        raise ConnectionError("connection was closed in the middle") from None
                    assert sum(r.working for r in everyone) == 1, "two replicas working at once"
                except ConnectionError:
                    await asyncio.sleep(0.05)  # "relay.retrying"
        finally:
            self.working = False


class SlowToStopReplica(Replica):
    """Finishes what it has in hand before it stops (a batch being published, a statement that
    cannot be interrupted): 0.2 s after it is told, longer than the next holder's poll."""

    async def work(self, everyone: list[Replica]) -> None:
        self.leads += 1
        self.working = True
        try:
            assert sum(r.working for r in everyone) == 1, "two replicas working at once"
            await asyncio.Event().wait()
        finally:
            done_at = asyncio.get_running_loop().time() + 0.2
            while (left := done_at - asyncio.get_running_loop().time()) > 0:
                with contextlib.suppress(asyncio.CancelledError):  # told again: still finishing
                    await asyncio.sleep(left)
            self.working = False


@pytest.mark.parametrize("kind", [CarelessReplica, SlowToStopReplica])
async def test_a_lost_lock_stops_work_that_turns_its_cancellation_into_an_error(
    database_url: str, kind: type[Replica]
) -> None:
    """Issue 13.1: such a loop went on without the lock beside the next holder. And the next
    holder, which the database lets take the lock the moment the last one's connection goes,
    waits before it works (``TAKEOVER_SECONDS``): the last one may still be stopping (seen
    once in CI with the careless loop; always with one slow to stop)."""
    replicas: list[Replica] = [kind("a"), kind("b")]
    overlaps = 0

    async def watch_overlap() -> None:
        nonlocal overlaps
        while True:
            overlaps += sum(r.working for r in replicas) > 1
            await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch_overlap())
    try:
        async with contending(database_url, replicas) as failover:
            first = await failover()
            await eventually(lambda: not first.working or first.leads == 2, what="first stopped")
            await eventually(lambda: sum(r.leads for r in replicas) == 2, what="a new leader")
            await asyncio.sleep(0.3)  # both loops keep running: an overlap would be counted
            assert sum(r.working for r in replicas) == 1
            assert overlaps == 0
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
