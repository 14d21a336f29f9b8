"""R16 statistics on both logs, with the router stepped by hand on a fake clock: a queue's
figures for the interval under way, the interval published once when it ends, and the same
figures rebuilt from the log by a replica that starts later."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventlog import EventStore
from routing_svc.handlers import Routing, get_queue_stats
from support_contracts.routing import GetQueueStats
from support_contracts.vocabulary import AgentStatus

from .world import World


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


async def stats(world: World) -> dict[str, Any]:
    routing = Routing(world.handlers, world.view, sessions=None)  # type: ignore[arg-type]
    query = GetQueueStats.new()
    [queue] = (await get_queue_stats(routing, query)).model_dump(mode="json")["queues"]
    return queue  # type: ignore[no-any-return]


async def test_r16_a_queue_s_figures_now_and_for_its_15_minute_interval(world: World) -> None:
    await world.agent("ann", capacity=2)
    await world.agent("ben", status=AgentStatus.AWAY)
    printers = await world.queue(["ann", "ben"], offer_timeout=300, service_level_seconds=30)
    quick = await world.hand_off(printers)  # 10:00:00
    await world.later(10)
    await world.accept("ann", quick)  # answered after 10 s: in time
    slow = await world.hand_off(printers)
    await world.later(40)
    await world.accept("ann", slow)  # after 40 s: not in time
    gone = await world.hand_off(printers)  # ann is full now: it waits
    await world.later(20)
    figures = await stats(world)
    assert (figures["name"], figures["waiting"], figures["longest_wait_seconds"]) == (
        "Printers", 1, 20.0
    )  # fmt: skip
    assert figures["agents"] == {"available": 0, "busy": 1, "wrapping_up": 0, "away": 1,
                                 "offline": 0}  # fmt: skip
    await world.end(gone)  # abandoned while waiting
    await world.later(230)
    await world.end(quick)  # handled from 10:00:10 to 10:05:00
    await world.settle()
    interval = (await stats(world))["interval"]
    assert interval["starts"].startswith("2026-11-24T10:00:00") and interval["ends"].startswith(
        "2026-11-24T10:15:00"
    )
    assert {k: interval[k] for k in ("offered", "answered", "answered_in_time", "abandoned")} == {
        "offered": 3, "answered": 2, "answered_in_time": 1, "abandoned": 1,
    }  # fmt: skip
    assert interval["service_level"] == pytest.approx(1 / 3)  # in time over answered + abandoned
    assert interval["service_level_seconds"] == 30
    assert interval["average_wait_seconds"] == pytest.approx((10 + 40) / 2)
    assert interval["average_handle_seconds"] == pytest.approx(290)

    assert await world.recorded("QueueIntervalEnded") == []  # not before the interval ends
    other = world.new_router()  # two routers at the interval's end: published once
    other.leading = True
    world.clock.advance(15 * 60)
    await asyncio.gather(world.router.step(), other.step())
    await world.settle()
    await other.step()
    [ended] = await world.recorded("QueueIntervalEnded")
    assert (ended["offered"], ended["answered"], ended["abandoned"]) == (3, 2, 1)
    assert ended["queue_id"] == str(printers)

    rebuilt = world.new_router()  # a replica starting now folds the same figures from the log
    await rebuilt.catch_up()
    assert rebuilt.view.statistics.counts == world.view.statistics.counts
    assert rebuilt.view.statistics.published == world.view.statistics.published
