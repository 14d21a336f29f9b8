"""R4-R7's "one router acts": a router that loses its lock (its connection cut: a failover, a
network cut, an event loop starved past the lock's check) stops acting at once, in the middle
of its appends, before another replica can take the lock (a turn went on to its end before,
beside the next leader's, on a view that leader's decisions had made stale). The offer the
cancelled turn did not record is made again once the router leads again: the view took it back
(the agent's slot was otherwise held by an offer the log never got)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from eventlog.postgres import PostgresEventStore
from support_testkit.locks import lock_holder
from support_testkit.plugin import fresh_schema
from support_testkit.waiting import eventually

from .world import World

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_r4_a_router_that_loses_its_lock_stops_in_the_middle_of_its_turn(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_schema(database_url) as schema:
        store = await PostgresEventStore.connect(database_url, schema)
        admin = await asyncpg.connect(database_url)
        world = World(store)
        world.router.leading = False  # it leads once it holds the lock
        appending, cancelled = asyncio.Event(), asyncio.Event()
        append = store.append

        async def slow_offers(stream_id: str, events: Any, expected: Any) -> Any:
            if any(e.type == "OfferMade" for e in events):  # the turn is in its appends
                appending.set()
                try:
                    await asyncio.Event().wait()  # a database slow to answer
                except asyncio.CancelledError:
                    cancelled.set()
                    raise
            return await append(stream_id, events, expected)

        running = asyncio.create_task(world.router.run())
        try:
            await world.agent("ann")
            queue = await world.queue(["ann"])
            await eventually(lambda: world.router.leading, what="the router leads")
            monkeypatch.setattr(store, "append", slow_offers)
            session = await world.hand_off(queue)
            await asyncio.wait_for(appending.wait(), 10)
            pid = await lock_holder(admin, f"{schema}:router")
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
            await asyncio.wait_for(cancelled.wait(), 10)  # the turn stopped with its lock
            monkeypatch.setattr(store, "append", append)  # the database answers again

            # it leads again, and the offer it did not record is made once, ann's slot free
            async def offered() -> bool:
                return bool(await world.recorded("OfferMade"))

            await eventually(offered, what="the offer recorded")
            assert [e["agent_id"] for e in await world.recorded("OfferMade")] == ["ann"]
            await eventually(lambda: world.offered_to(session) == ["ann"], what="in the view")
        finally:
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
            await admin.close()
            await store.close()
