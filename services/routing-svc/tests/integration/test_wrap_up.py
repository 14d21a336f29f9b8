"""R11 wrap-up on both logs, with the router stepped by hand on a fake clock."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from eventlog import EventStore
from support_contracts.refusals import Refusal

from .world import World


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


async def taken_and_ended(world: World, queue: UUID) -> tuple[UUID, UUID]:
    """ann takes a session of the queue and it ends; a second one waits meanwhile."""
    first = await world.hand_off(queue)
    await world.settle()
    await world.accept("ann", first)
    waiting = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(waiting) == []  # ann's one slot is taken
    await world.end(first)
    await world.settle()
    return first, waiting


async def test_r11_the_slot_stays_taken_for_the_queue_s_wrap_up_time(world: World) -> None:
    await world.agent("ann", capacity=1)
    queue = await world.queue(["ann"], offer_timeout=300, wrap_up_seconds=60)
    first, waiting = await taken_and_ended(world, queue)
    [started] = await world.recorded("WrapUpStarted")
    assert started["session_id"] == str(first) and started["until"].startswith("2026-11-24T10:01")
    assert world.offered_to(waiting) == []  # wrapping up: not yet
    await world.later(59)
    assert world.offered_to(waiting) == []
    other = world.new_router()  # a second router at once: the time-out is recorded once
    other.leading = True
    world.clock.advance(2)
    await asyncio.gather(world.router.step(), other.step())
    await world.settle()
    [finished] = await world.recorded("WrapUpFinished")
    assert (finished["timed_out"], finished.get("code")) == (True, None)
    assert world.offered_to(waiting) == ["ann"]  # R7: the freed slot is offered at once


async def test_r11_an_agent_finishes_early_with_a_code_of_the_queue_s_list(world: World) -> None:
    await world.agent("ann", capacity=1)
    queue = await world.queue(
        ["ann"], offer_timeout=300, wrap_up_seconds=600, wrap_up_codes=["resolved", "escalated"],
        wrap_up_code_required=True,
    )  # fmt: skip
    first, waiting = await taken_and_ended(world, queue)
    for code, refusal in ((None, "code_required"), ("lost", "unknown_code")):
        with pytest.raises(Refusal) as refused:
            await world.finish_wrap_up("ann", first, code)
        assert (refused.value.status, refused.value.code) == (422, refusal)
    assert world.offered_to(waiting) == []
    await world.finish_wrap_up("ann", first, "resolved")
    [finished] = await world.recorded("WrapUpFinished")
    assert (finished["code"], finished["timed_out"]) == ("resolved", False)
    assert world.offered_to(waiting) == ["ann"]
    with pytest.raises(Refusal) as again:
        await world.finish_wrap_up("ann", first, "resolved")
    assert again.value.code == "not_wrapping_up"
    await world.later(601)  # its time-out finds nothing to end
    assert len(await world.recorded("WrapUpFinished")) == 1


async def test_r11_a_queue_without_wrap_up_frees_the_slot_at_the_end(world: World) -> None:
    await world.agent("ann", capacity=1)
    queue = await world.queue(["ann"], offer_timeout=300)
    _, waiting = await taken_and_ended(world, queue)
    assert await world.recorded("WrapUpStarted") == []
    assert world.offered_to(waiting) == ["ann"]


async def test_r11_a_wrap_up_survives_a_restart_of_the_router(world: World) -> None:
    await world.agent("ann", capacity=1)
    queue = await world.queue(["ann"], offer_timeout=300, wrap_up_seconds=60)
    _, waiting = await taken_and_ended(world, queue)
    world.router = world.new_router()  # a replica starting now rebuilds it from the log
    world.router.leading = True
    world.router.take_lead()
    await world.settle()
    assert world.offered_to(waiting) == []
    await world.later(61)
    assert world.offered_to(waiting) == ["ann"]
