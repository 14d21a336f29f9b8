"""A queue's waiting line on both logs, with the router stepped by hand on a fake clock: R10, a
busy agent's queue offered by priority, then by age, priorities rising as sessions wait; R15,
a session that ends while it waits counts as abandoned."""

from __future__ import annotations

from uuid import UUID

import pytest

from eventlog import EventStore
from routing_svc.queries import standing_of

from .world import World


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


async def busy_desk(world: World, **queue: int) -> tuple[UUID, UUID]:
    """ann, capacity 1, holding a session of the queue; the queue and that session."""
    await world.agent("ann", capacity=1)
    printers = await world.queue(["ann"], offer_timeout=300, **queue)  # type: ignore[arg-type]
    held = await world.hand_off(printers)
    await world.settle()
    await world.accept("ann", held)
    return printers, held


def places(world: World, sessions: list[UUID]) -> list[int | None]:
    now = world.clock.now()
    return [s.position if (s := standing_of(world.view, x, now)) else None for x in sessions]


async def test_r10_a_waiting_session_is_offered_by_priority_then_by_age(world: World) -> None:
    printers, held = await busy_desk(world)
    low = await world.hand_off(printers, priority=7)
    world.clock.advance(1)
    default = await world.hand_off(printers)  # 5, the usual
    world.clock.advance(1)
    urgent = await world.hand_off(printers, priority=2)
    world.clock.advance(1)
    also_urgent = await world.hand_off(printers, priority=2)
    await world.settle()
    assert places(world, [urgent, also_urgent, default, low]) == [1, 2, 3, 4]
    [queued] = [q for q in await world.recorded("TaskQueued") if q["session_id"] == str(urgent)]
    assert queued["priority"] == 2
    await world.end(held)  # ann is free: the first by priority, then age, is offered
    await world.settle()
    assert world.offers("ann") == [urgent]


async def test_r10_priority_rises_as_a_session_waits_so_nothing_starves(world: World) -> None:
    printers, held = await busy_desk(world, priority_aging_seconds=60)
    patient = await world.hand_off(printers, priority=9)
    await world.later(60)
    newer = await world.hand_off(printers, priority=5)
    await world.settle()
    assert places(world, [newer, patient]) == [1, 2]  # 5 against 9 risen once: 8
    await world.later(540)  # patient: 9-10 -> 1; newer: 5-9 -> 1: the older first
    assert places(world, [patient, newer]) == [1, 2]
    await world.end(held)
    await world.settle()
    assert world.offers("ann") == [patient]


async def test_r15_a_session_that_ends_while_it_waits_counts_as_abandoned(world: World) -> None:
    printers, held = await busy_desk(world)
    gone = await world.hand_off(printers)
    await world.later(90)
    await world.end(gone)  # its customer left while waiting (session-svc ends it: withdrawn)
    await world.settle()
    [abandoned] = await world.recorded("TaskAbandoned")
    assert (abandoned["session_id"], abandoned["queue_id"]) == (str(gone), str(printers))
    assert abandoned["waited_seconds"] == 90.0
    await world.end(held)  # a session that ended in an agent's hands was not abandoned
    await world.settle()
    assert len(await world.recorded("TaskAbandoned")) == 1


async def two_agents(world: World, **queue: int) -> UUID:
    for name in ("ann", "ben"):
        await world.agent(name, capacity=1)
        world.clock.advance(1)  # ann is free longest: most_idle would offer her first
    return await world.queue(["ann", "ben"], offer_timeout=300, **queue)  # type: ignore[arg-type]


async def test_r18_a_preferred_agent_is_offered_the_session_first(world: World) -> None:
    printers = await two_agents(world, preferred_agent_seconds=120)
    session = await world.hand_off(printers, preferred="ben")
    await world.settle()
    assert world.offered_to(session) == ["ben"]
    [queued] = await world.recorded("TaskQueued")
    assert queued["preferred_agent"] == "ben"
    await world.decline("ben", session)  # he cannot: routing moves on at once
    assert world.offered_to(session) == ["ann"]


async def test_r18_the_session_waits_for_a_busy_preferred_agent_for_the_queue_s_time(
    world: World,
) -> None:
    printers = await two_agents(world, preferred_agent_seconds=120)
    busy = await world.hand_off(printers, preferred="ben")
    await world.settle()
    await world.accept("ben", busy)  # ben's one slot is taken
    session = await world.hand_off(printers, preferred="ben")
    await world.settle()
    assert world.offered_to(session) == []  # ann is free, but the session waits for ben
    await world.later(119)
    assert world.offered_to(session) == []
    await world.later(2)  # the queue's 120 s are over: anyone
    assert world.offered_to(session) == ["ann"]


async def test_r18_without_the_queue_s_time_a_preference_changes_nothing(world: World) -> None:
    printers = await two_agents(world)
    session = await world.hand_off(printers, preferred="ben")
    await world.settle()
    assert world.offered_to(session) == ["ann"]  # most idle, as always


async def test_r18_an_offer_made_after_the_window_still_expires_on_time(world: World) -> None:
    """A deadline already past (the window's end) once hid the later ones: an offer made after
    it got no timer of its own, and lingered until the escalation."""
    for name in ("ann", "ben"):
        await world.agent(name, capacity=1)
    printers = await world.queue(["ann", "ben"], offer_timeout=30, preferred_agent_seconds=120)
    busy = await world.hand_off(printers, preferred="ben")
    await world.settle()
    await world.accept("ben", busy)
    session = await world.hand_off(printers, preferred="ben")
    await world.later(121)  # the window is over: ann is offered it, for 30 s
    assert world.offered_to(session) == ["ann"]
    await world.later(1)
    assert await world.recorded("OfferExpired") == []
    await world.later(30)  # 31 s after the offer
    [expired] = await world.recorded("OfferExpired")
    assert (expired["agent_id"], expired["session_id"]) == ("ann", str(session))
