"""R14 overflow on both logs, with the router stepped by hand on a fake clock."""

from __future__ import annotations

from uuid import UUID

import pytest

from eventlog import EventStore
from routing_svc.queries import standing_of
from support_contracts.refusals import Refusal

from .world import World


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


def places(world: World, sessions: list[UUID]) -> list[int | None]:
    now = world.clock.now()
    return [s.position if (s := standing_of(world.view, x, now)) else None for x in sessions]


async def taken(world: World, queue: UUID, agent: str) -> UUID:
    session = await world.hand_off(queue)
    await world.settle()
    await world.accept(agent, session)
    return session


async def test_r14_past_the_wait_a_session_is_offered_in_the_overflow_queue_too(
    world: World,
) -> None:
    await world.agent("ann")
    await world.agent("ben")
    helpdesk = await world.queue(["ben"], offer_timeout=300)
    printers = await world.queue(
        ["ann"], offer_timeout=300, overflow_queue_id=helpdesk, overflow_after_seconds=60
    )
    await taken(world, printers, "ann")
    bens = await taken(world, helpdesk, "ben")
    overflowing = await world.hand_off(printers)  # ann is busy: it waits
    await world.later(10)
    newer = await world.hand_off(helpdesk)  # ben is busy too
    await world.later(49)
    assert await world.recorded("TaskOverflowed") == []
    await world.later(2)  # 61 s: past the printers queue's 60
    [overflowed] = await world.recorded("TaskOverflowed")
    assert (overflowed["queue_id"], overflowed["reason"]) == (str(helpdesk), "waited")
    assert places(world, [overflowing, newer]) == [1, 2]  # in helpdesk, ahead by its age
    assert len(world.view.waiting[helpdesk]) == 2 and len(world.view.waiting[printers]) == 1
    await world.end(bens)  # ben is free: the older session, from printers, first
    await world.settle()
    assert world.offers("ben") == [overflowing]
    await world.accept("ben", overflowing)
    assert len(world.view.waiting[helpdesk]) == 1  # taken: out of both lines


async def test_r14_an_estimated_wait_over_the_threshold_overflows_at_once(world: World) -> None:
    await world.agent("ann")
    await world.agent("ben", capacity=2)
    helpdesk = await world.queue(["ben"], offer_timeout=300)
    printers = await world.queue(
        ["ann"], offer_timeout=300, overflow_queue_id=helpdesk,
        overflow_when_estimated_wait_over_seconds=300,
    )  # fmt: skip
    first = await taken(world, printers, "ann")
    await world.later(600)
    await world.end(first)  # printers' sessions take 600 s: its estimate is known now
    await taken(world, printers, "ann")
    waiting = await world.hand_off(printers)  # 600 s a place, one slot: over 300
    await world.later(1)  # the router looks at its estimate at its next turn
    [overflowed] = await world.recorded("TaskOverflowed")
    assert (overflowed["session_id"], overflowed["reason"]) == (str(waiting), "estimated_wait")
    assert world.offered_to(waiting) == ["ben"]


async def test_r14_an_overflow_queue_must_exist_and_not_be_the_queue_itself(world: World) -> None:
    with pytest.raises(Refusal) as nowhere:
        await world.queue(["ann"], overflow_queue_id=UUID(int=7), overflow_after_seconds=60)
    assert (nowhere.value.status, nowhere.value.code) == (422, "unknown_overflow_queue")
    helpdesk = await world.queue(["ben"])
    with pytest.raises(Refusal) as half:
        await world.queue(["ann"], overflow_queue_id=helpdesk)  # no threshold
    assert half.value.code == "overflow_half_set"
