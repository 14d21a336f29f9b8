"""routing-svc benchmark, part 1b: the cost of one routing decision with skills (R9), our
``AgentPool`` beside a plain scan over the agents (``run.py`` prints it with the rest)."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

from common import progress
from scan import Scan

from routing_svc.domain.pool import Agent, AgentPool, Policy
from routing_svc.domain.skills import Requirement
from support_contracts.vocabulary import AgentStatus

T0 = datetime(2026, 1, 1, tzinfo=UTC)


SKILLS = [f"skill{n:02}" for n in range(20)]


def skilled_agents(count: int, rng: random.Random) -> list[Agent]:
    """Each agent has 8 of the 20 skills, at a proficiency of 1 to 5."""
    agents = []
    for n in range(count):
        skills = {skill: rng.randint(1, 5) for skill in rng.sample(SKILLS, 8)}
        free_since = T0 - timedelta(seconds=n % 977)
        agents.append(Agent(f"a{n}", 2, n, AgentStatus.AVAILABLE, 0, free_since, skills))
    return agents


def requirements_in_play(rng: random.Random) -> list[Requirement]:
    """10 queues, each needing 3 skills at 2 or better, with two relaxation steps (after 30 s
    the minimum falls to 1, after 60 s one skill is dropped): 30 requirements in play."""
    found = []
    for _ in range(10):
        skills = rng.sample(SKILLS, 3)
        found += [
            Requirement(frozenset(skills), 2),
            Requirement(frozenset(skills), 1),
            Requirement(frozenset(skills[:2]), 1),
        ]
    return found


def skilled_decisions_per_second(
    router: AgentPool | Scan, needed: list[Requirement], decisions: int
) -> float:
    """Each decision for a session of a random queue at a random step of its relaxation; the
    one chosen takes it; past 100 sessions in progress, the oldest ends."""
    busy: list[str] = []
    started = time.perf_counter()
    for n in range(decisions):
        needs = needed[n * 7919 % len(needed)]
        if isinstance(router, Scan):
            chosen = router.pick_for(needs)
        else:
            chosen = next(iter(router.pick(Policy.MOST_IDLE, (), needs)), None)
        if chosen is not None:
            router.take(chosen)
            busy.append(chosen)
        if len(busy) > 100:
            router.free(busy.pop(0), T0 + timedelta(seconds=n))
    return decisions / (time.perf_counter() - started)


def skills_cost() -> list[tuple[int, float, float, float]]:
    """(agents, first decision per requirement µs (its ranking built), ours µs, scan µs)."""
    rows = []
    for count in (1_000, 10_000, 100_000):
        progress(f"one decision with skills among {count:,} agents")
        rng = random.Random(count)
        agents, needed = skilled_agents(count, rng), requirements_in_play(rng)
        pool = AgentPool()
        for agent in agents:
            pool.put(agent)
        started = time.perf_counter()
        for needs in needed:  # the first decision for each builds its ranking
            pool.pick(Policy.MOST_IDLE, (), needs)
        first = (time.perf_counter() - started) / len(needed)
        ours = skilled_decisions_per_second(pool, needed, 20_000)
        scan = skilled_decisions_per_second(Scan(agents), needed, max(100, 1_000_000 // count))
        rows.append((count, first * 1e6, 1e6 / ours, 1e6 / scan))
    return rows
