"""R9 skills on both logs, with the router stepped by hand on a fake clock: who is offered a
session that needs skills, and how the queue's relaxation steps widen the match."""

from __future__ import annotations

import pytest

from eventlog import EventStore
from support_contracts.vocabulary import RoutingPolicy

from .world import World


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


async def test_r9_only_agents_with_the_skills_are_offered_a_session_the_best_match_first(
    world: World,
) -> None:
    await world.agent("ann", skills={"billing": 2})
    await world.agent("ben", skills={"billing": 4})
    await world.agent("cat", skills={"billing": 5, "spanish": 3})
    await world.agent("dan")
    billing = await world.queue(
        ["ann", "ben", "cat", "dan"], required_skills=["billing"], minimum_proficiency=3
    )
    first = await world.hand_off(billing)
    await world.settle()
    assert world.offered_to(first) == ["cat"]  # 5 before 4; ann (2) and dan never
    await world.accept("cat", first)
    in_spanish = await world.hand_off(billing, skills=["spanish"])  # only cat has it: busy
    second = await world.hand_off(billing)
    await world.settle()
    assert world.offered_to(in_spanish) == []
    assert world.offered_to(second) == ["ben"]  # passed over the one nobody free can take
    await world.end(first)  # cat is free again
    await world.settle()
    assert world.offered_to(in_spanish) == ["cat"]
    [configured, *_] = await world.recorded("AgentConfigured")
    assert configured["skills"] == {"billing": 2}


async def test_r9_relaxation_steps_widen_the_match_as_the_session_waits(world: World) -> None:
    await world.agent("ann", skills={"billing": 2})
    await world.agent("dan")
    billing = await world.queue(
        ["ann", "dan"], RoutingPolicy.MOST_IDLE, offer_timeout=300,
        required_skills=["billing"], minimum_proficiency=4,
        relaxation=[
            {"after_seconds": 60, "lower_minimum_to": 2},
            {"after_seconds": 120, "drop_skill": "billing"},
        ],
    )  # fmt: skip
    waiting = await world.hand_off(billing)
    await world.later(59)
    assert world.offered_to(waiting) == []  # nobody has billing at 4
    await world.later(2)  # 61 s: the minimum is 2 now
    assert world.offered_to(waiting) == ["ann"]
    await world.decline("ann", waiting)
    await world.later(30)
    assert world.offered_to(waiting) == []  # dan has no billing yet
    await world.later(30)  # 121 s: billing is dropped, any member qualifies
    assert world.offered_to(waiting) == ["dan"]
