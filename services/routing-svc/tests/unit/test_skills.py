"""R9 skills in the pure domain: what a waiting session needs as time passes (a fake clock),
who meets it and who first, and the queue definitions refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from routing_svc.domain.pool import Agent, AgentPool, Policy
from routing_svc.domain.skills import Requirement, relaxation_times, requirement
from support_contracts.routing import OpeningHours, QueueDefinition
from support_contracts.vocabulary import AgentStatus, RoutingPolicy

T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)


def queue(**more: Any) -> QueueDefinition:
    return QueueDefinition(
        name="Billing", agent_ids=["ann"], policy=RoutingPolicy.MOST_IDLE,
        time_zone="Europe/Prague", hours=[OpeningHours(weekday=0, opens="08:00", closes="16:00")],
        escalation_seconds=600, offer_timeout_seconds=30, **more,
    )  # fmt: skip


def needs(skills: set[str], minimum: int) -> Requirement:
    return Requirement(frozenset(skills), minimum)


def after(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_r9_a_session_needs_the_queues_skills_and_those_its_hand_off_adds() -> None:
    billing = queue(required_skills=["billing"], minimum_proficiency=3)
    assert requirement(billing, ["spanish"], queued_at=T0, now=T0) == needs(
        {"billing", "spanish"}, 3
    )
    assert requirement(queue(required_skills=["billing"]), [], queued_at=T0, now=T0) == needs(
        {"billing"}, 1
    )
    assert requirement(queue(), [], queued_at=T0, now=T0) is None  # anyone of the queue


def test_r9_relaxation_steps_widen_the_match_as_the_session_waits() -> None:
    billing = queue(
        required_skills=["billing", "spanish"],
        minimum_proficiency=4,
        relaxation=[
            {"after_seconds": 30, "lower_minimum_to": 2},
            {"after_seconds": 60, "drop_skill": "spanish"},
            {"after_seconds": 90, "drop_skill": "billing"},
        ],
    )

    def at(seconds: float) -> Requirement | None:
        return requirement(billing, [], queued_at=T0, now=after(seconds))

    assert at(0) == at(29.9) == needs({"billing", "spanish"}, 4)
    assert at(30) == at(59) == needs({"billing", "spanish"}, 2)
    assert at(60) == needs({"billing"}, 2)
    assert at(90) is None  # no skill left: any member qualifies
    assert relaxation_times(billing, T0) == [after(30), after(60), after(90)]


def test_r9_a_match_is_the_sum_of_the_needed_proficiencies_or_none_below_the_minimum() -> None:
    billing_3 = needs({"billing", "spanish"}, 3)
    assert billing_3.score({"billing": 4, "spanish": 3, "windows": 5}) == 7
    assert billing_3.score({"billing": 5, "spanish": 2}) is None
    assert billing_3.score({"billing": 5}) is None


def pool_of(*agents: tuple[str, dict[str, int]]) -> AgentPool:
    """Available in member order, the first free for longest."""
    pool = AgentPool()
    for order, (agent_id, skills) in enumerate(agents):
        pool.put(Agent(agent_id, 1, order, skills=skills))
        pool.set_status(agent_id, AgentStatus.AVAILABLE, after(order))
    return pool


def test_r9_only_agents_with_every_skill_at_the_minimum_are_offered_the_best_match_first() -> None:
    pool = pool_of(
        ("ann", {"billing": 2}),
        ("ben", {"billing": 4, "spanish": 3}),
        ("cat", {"billing": 5}),
        ("dan", {}),
    )
    billing_3 = needs({"billing"}, 3)
    assert pool.pick(Policy.MOST_IDLE) == ["ann"]  # no skills needed: the policy alone
    assert pool.pick(Policy.MOST_IDLE, (), billing_3) == ["cat"]  # 5 before 4, idle or not
    assert pool.pick(Policy.LEAST_BUSY, (), billing_3) == ["cat"]
    assert pool.pick(Policy.ROUND_ROBIN, (), billing_3) == ["cat"]
    assert pool.pick(Policy.EVERYBODY, (), billing_3) == ["cat", "ben"]
    assert pool.pick(Policy.MOST_IDLE, {"cat"}, billing_3) == ["ben"]  # cat declined it
    assert pool.pick(Policy.MOST_IDLE, (), needs({"billing", "spanish"}, 3)) == ["ben"]
    assert pool.pick(Policy.MOST_IDLE, (), needs({"windows"}, 1)) == []
    pool.take("cat")  # busy: the next best
    assert pool.pick(Policy.MOST_IDLE, (), billing_3) == ["ben"]
    pool.put(Agent("ann", 1, 0, AgentStatus.AVAILABLE, free_since=T0, skills={"billing": 5}))
    assert pool.pick(Policy.MOST_IDLE, (), billing_3) == ["ann"]  # an admin changed her skills


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"required_skills": ["billing", "billing"]}, "names a skill twice"),
        ({"required_skills": ["Billing Team"]}, "pattern"),
        ({"minimum_proficiency": 6}, "less than or equal to 5"),
        ({"relaxation": [{"after_seconds": 30}]}, "one of them"),
        (
            {"relaxation": [{"after_seconds": 30, "drop_skill": "a", "lower_minimum_to": 1}]},
            "one of them",
        ),
        (
            {
                "relaxation": [
                    {"after_seconds": 60, "drop_skill": "billing"},
                    {"after_seconds": 30, "drop_skill": "spanish"},
                ]
            },
            "in order of after_seconds",
        ),
        (
            {
                "minimum_proficiency": 3,
                "relaxation": [{"after_seconds": 30, "lower_minimum_to": 3}],
            },
            "does not lower the minimum of 3",
        ),
    ],
)
def test_r9_queue_skills_that_make_no_sense_are_refused(more: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        queue(required_skills=more.pop("required_skills", ["billing"]), **more)
