"""R2, R3, R9: who gets the next offer under each policy and with skills, and that the fast pool
always picks what a plain scan of all agents would."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from routing_svc.domain.pool import Agent, AgentPool, Policy
from routing_svc.domain.skills import Requirement
from support_contracts.vocabulary import AgentStatus

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def pool_of(*agents: tuple[str, int, int]) -> AgentPool:
    """(id, capacity, minute it became available), in member order."""
    pool = AgentPool()
    for order, (agent_id, capacity, minute) in enumerate(agents):
        pool.put(Agent(agent_id, capacity, order))
        pool.set_status(agent_id, AgentStatus.AVAILABLE, at(minute))
    return pool


def test_r2_most_idle_offers_to_the_agent_free_for_longest() -> None:
    pool = pool_of(("ann", 2, 5), ("ben", 2, 1), ("cat", 2, 3))
    assert pool.pick(Policy.MOST_IDLE) == ["ben"]
    pool.take("ben")
    pool.free("ben", at(10))  # ben was busy and is free again only since minute 10
    assert pool.pick(Policy.MOST_IDLE) == ["cat"]
    assert pool.pick(Policy.MOST_IDLE, exclude={"cat"}) == ["ann"]  # cat declined


def test_r2_least_busy_offers_to_the_agent_with_fewest_sessions() -> None:
    pool = pool_of(("ann", 3, 1), ("ben", 3, 2), ("cat", 3, 3))
    pool.take("ann")
    pool.take("ann")
    pool.take("ben")
    assert pool.pick(Policy.LEAST_BUSY) == ["cat"]
    pool.take("cat")
    assert pool.pick(Policy.LEAST_BUSY) == ["ben"]  # ben and cat have one; ben idles longer


def test_r2_round_robin_goes_round_in_member_order() -> None:
    pool = pool_of(("ann", 5, 1), ("ben", 5, 1), ("cat", 5, 1))
    order = []
    for _ in range(5):
        [chosen] = pool.pick(Policy.ROUND_ROBIN)
        pool.offered(chosen)
        order.append(chosen)
    assert order == ["ann", "ben", "cat", "ann", "ben"]
    pool.set_status("cat", AgentStatus.AWAY, at(9))
    pool.offered("ben")
    assert pool.pick(Policy.ROUND_ROBIN) == ["ann"]  # cat is skipped while away


def test_r2_everybody_offers_to_all_eligible_at_once() -> None:
    pool = pool_of(("ann", 1, 1), ("ben", 1, 1), ("cat", 1, 1))
    pool.take("ben")  # at capacity
    assert pool.pick(Policy.EVERYBODY) == ["ann", "cat"]


def test_r3_away_offline_or_full_agents_get_no_offers() -> None:
    pool = pool_of(("ann", 1, 1), ("ben", 2, 2))
    pool.take("ann")
    pool.set_status("ben", AgentStatus.OFFLINE, at(3))
    for policy in Policy:
        assert pool.pick(policy) == []
    pool.set_status("ben", AgentStatus.AVAILABLE, at(4))
    assert pool.pick(Policy.MOST_IDLE) == ["ben"]


# --- the fast pool against a plain scan -----------------------------------------------------------


def reference(
    pool: AgentPool,
    policy: Policy,
    exclude: set[str],
    cursor: int,
    requirement: Requirement | None = None,
) -> list[str]:
    """Every agent looked at: those who meet the requirement, the best match first."""

    def match(a: Agent) -> int | None:
        return 0 if requirement is None else requirement.score(a.skills)

    members = sorted(pool.agents.values(), key=lambda a: a.order)
    open_ = [a for a in members if a.eligible and a.id not in exclude and match(a) is not None]
    if policy is Policy.EVERYBODY:
        return [a.id for a in sorted(open_, key=lambda a: (-(match(a) or 0), a.order))]
    if not open_:
        return []
    best = max(match(a) or 0 for a in open_)
    open_ = [a for a in open_ if match(a) == best]
    if policy is Policy.MOST_IDLE:
        return [min(open_, key=lambda a: (a.free_since, a.order)).id]
    if policy is Policy.LEAST_BUSY:
        return [min(open_, key=lambda a: (a.load, a.free_since, a.order)).id]
    after = [a for a in open_ if a.order > cursor]
    return [(after or open_)[0].id]


AGENTS = [f"a{i}" for i in range(6)]
SKILLS = ["billing", "spanish", "windows"]
skill_sets = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3)
requirements = st.none() | st.builds(
    Requirement, st.frozensets(st.sampled_from(SKILLS), min_size=1, max_size=2), st.integers(1, 4)
)
operations = st.lists(
    st.tuples(
        st.sampled_from(["status", "take", "free", "offered", "pick", "skills"]),
        st.sampled_from(AGENTS),
        st.sampled_from(list(AgentStatus)),
        st.sampled_from(list(Policy)),
        st.sets(st.sampled_from(AGENTS), max_size=3),
        requirements,
        skill_sets,
    ),
    max_size=60,
)


@settings(max_examples=400, deadline=None)
@given(operations=operations, capacities=st.lists(st.integers(1, 3), min_size=6, max_size=6))
def test_r9_the_pool_picks_what_a_plain_scan_would(
    operations: list[tuple[str, str, AgentStatus, Policy, set[str], Requirement | None, dict]],
    capacities: list[int],
) -> None:
    pool, cursor = AgentPool(), -1
    for order, (agent_id, capacity) in enumerate(zip(AGENTS, capacities, strict=True)):
        pool.put(Agent(agent_id, capacity, order, skills={"billing": order % 5 + 1}))
        pool.set_status(agent_id, AgentStatus.AVAILABLE, at(-order))
    for minute, (what, agent_id, status, policy, exclude, needs, skills) in enumerate(operations):
        agent = pool.agents[agent_id]
        if what == "status":
            pool.set_status(agent_id, status, at(minute))
        elif what == "take" and agent.eligible:
            pool.take(agent_id)
        elif what == "free" and agent.load > 0:
            pool.free(agent_id, at(minute))
        elif what == "offered":
            pool.offered(agent_id)
            cursor = agent.order
        elif what == "skills":
            pool.put(replace(agent, skills=skills))
        elif what == "pick":
            found = pool.pick(policy, exclude, needs)
            assert found == reference(pool, policy, exclude, cursor, needs)
    for policy in Policy:
        assert pool.pick(policy) == reference(pool, policy, set(), cursor)
