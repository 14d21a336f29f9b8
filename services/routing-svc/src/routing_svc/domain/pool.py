"""The agents of one queue and who gets the next offer (R2, R3).

Eligible: available and below capacity. The four policies, one sentence each:
- ``most_idle``: the eligible agent free for longest (ties: the queue's member order);
- ``least_busy``: the eligible agent with the fewest sessions now (ties: most idle first);
- ``round_robin``: the next eligible agent after the last one offered, in member order;
- ``everybody``: every eligible agent at once, in member order.

R9: a session may need skills (a ``Requirement``); then only the agents who meet it are
offered it, the best match first, and the policy decides between equal matches.

A decision must not cost time linear in the number of agents. The pool keeps a ranking for
each requirement in play (one for none; one for each queue's skills at each relaxation step,
and for what hand-offs add), built once from the agents who have the rarest of its skills and
kept up as agents change. ``most_idle`` and ``least_busy`` keep heaps whose stale entries (an
agent changed since it was pushed) are dropped when they reach the top, so a pick costs
O(log n) plus the agents it must skip (those a task excludes: they declined it, or already
hold an offer for it). ``round_robin`` walks the member order from a cursor, skipping agents
who cannot take work.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from routing_svc.domain.skills import Requirement
from support_contracts.vocabulary import AgentStatus

MAX_RANKINGS = 64
"""Rankings kept besides the one for no requirement; the least recently used goes first."""


class Policy(StrEnum):
    MOST_IDLE = "most_idle"
    ROUND_ROBIN = "round_robin"
    EVERYBODY = "everybody"
    LEAST_BUSY = "least_busy"


@dataclass(frozen=True)
class Agent:
    id: str
    capacity: int
    order: int  # place in the queue's member list
    status: AgentStatus = AgentStatus.OFFLINE
    load: int = 0
    free_since: datetime | None = None  # when it last became able to take work
    skills: Mapping[str, int] = field(default_factory=dict, compare=False)  # R9: proficiency

    @property
    def eligible(self) -> bool:
        return (
            self.status is AgentStatus.AVAILABLE
            and self.load < self.capacity
            and self.free_since is not None
        )


class _Ranking:
    """The members who meet one requirement (all of them, for none), each with its match:
    the eligible ones in each policy's order after the best match."""

    def __init__(self, requirement: Requirement | None) -> None:
        self.requirement = requirement
        self.scores: dict[str, int] = {}  # who meets it, and how well
        self.eligible: set[str] = set()
        self.by_idle: list[tuple[Any, ...]] = []  # (-score, free_since, order, stamp, id)
        self.by_load: list[tuple[Any, ...]] = []  # (-score, load, free_since, order, stamp, id)
        self.members: dict[int, list[tuple[int, str]]] = {}  # score -> (order, id), sorted
        self.used = 0

    def put(self, agent: Agent, stamp: int) -> None:
        score = 0 if self.requirement is None else self.requirement.score(agent.skills)
        before = self.scores.get(agent.id)
        if before != score:
            if before is not None:
                self._leave(before, agent)
                del self.scores[agent.id]
            if score is not None:
                self.scores[agent.id] = score
                bisect.insort(self.members.setdefault(score, []), (agent.order, agent.id))
        if score is None or not agent.eligible:
            self.eligible.discard(agent.id)
            return
        self.eligible.add(agent.id)
        self.push(agent, stamp)

    def push(self, agent: Agent, stamp: int) -> None:
        """Entries for an eligible member in the heaps (the older ones go stale)."""
        score = self.scores[agent.id]
        assert agent.free_since is not None
        heapq.heappush(self.by_idle, (-score, agent.free_since, agent.order, stamp, agent.id))
        entry = (-score, agent.load, agent.free_since, agent.order, stamp, agent.id)
        heapq.heappush(self.by_load, entry)

    def _leave(self, score: int, agent: Agent) -> None:
        same = self.members[score]
        del same[bisect.bisect_left(same, (agent.order, agent.id))]
        if not same:
            del self.members[score]

    def stale(self) -> bool:
        """More stale entries than current ones: time to build the heaps afresh."""
        return len(self.by_idle) + len(self.by_load) > 4 * len(self.eligible) + 64


@dataclass
class AgentPool:
    agents: dict[str, Agent] = field(default_factory=dict)
    _stamp: dict[str, int] = field(default_factory=dict)
    _by_skill: dict[str, set[str]] = field(default_factory=dict)  # R9: who has each skill
    _rankings: dict[Requirement | None, _Ranking] = field(
        default_factory=lambda: {None: _Ranking(None)}
    )
    _uses: Iterator[int] = field(default_factory=itertools.count)
    _cursor: int = -1

    # --- what happens to agents -----------------------------------------------------------------

    def put(self, agent: Agent) -> None:
        """An agent added or changed; the heaps get a fresh entry, older ones go stale."""
        before = self.agents.get(agent.id)
        if before is None or before.skills != agent.skills:
            for skill in before.skills if before else ():
                self._by_skill[skill].discard(agent.id)
            for skill in agent.skills:
                self._by_skill.setdefault(skill, set()).add(agent.id)
        self.agents[agent.id] = agent
        stamp = self._stamp[agent.id] = self._stamp.get(agent.id, 0) + 1
        for ranking in self._rankings.values():
            ranking.put(agent, stamp)
            if ranking.stale():
                self._rebuild(ranking)

    def set_status(self, agent_id: str, status: AgentStatus, at: datetime) -> None:
        agent = self.agents[agent_id]
        became_free = status is AgentStatus.AVAILABLE and agent.status is not status
        free_since = at if became_free else agent.free_since
        self.put(replace(agent, status=status, free_since=free_since))

    def take(self, agent_id: str) -> None:
        """The agent took a session (an accepted offer)."""
        agent = self.agents[agent_id]
        self.put(replace(agent, load=agent.load + 1))

    def free(self, agent_id: str, at: datetime) -> None:
        """A session of the agent's ended or moved on: a slot is free again, from ``at``."""
        agent = self.agents[agent_id]
        self.put(replace(agent, load=max(agent.load - 1, 0), free_since=at))

    # --- who gets the offer ---------------------------------------------------------------------

    def has_eligible(self) -> bool:
        return bool(self._rankings[None].eligible)

    def pick(
        self, policy: Policy, exclude: Collection[str] = (), requirement: Requirement | None = None
    ) -> list[str]:
        """The agents to offer a task to now: one, or for ``everybody`` all eligible; of those
        who meet the requirement (R9), the best match first."""
        ranking = self._ranking(requirement)
        if policy is Policy.EVERYBODY:
            everyone = [
                (-ranking.scores[i], self.agents[i].order, i)
                for i in ranking.eligible
                if i not in exclude
            ]
            return [agent_id for *_, agent_id in sorted(everyone)]
        if policy is Policy.ROUND_ROBIN:
            chosen = self._next_in_rotation(ranking, exclude)
        elif policy is Policy.MOST_IDLE:
            chosen = self._top(ranking.by_idle, exclude, stamp_at=3)
        else:
            chosen = self._top(ranking.by_load, exclude, stamp_at=4)
        return [chosen] if chosen is not None else []

    def offered(self, agent_id: str) -> None:
        """Round robin goes on after the agent last offered a task."""
        self._cursor = self.agents[agent_id].order

    def _ranking(self, requirement: Requirement | None) -> _Ranking:
        """The requirement's ranking; a new one is built from the agents with its rarest skill."""
        if requirement is not None and not requirement.skills:
            requirement = None
        ranking = self._rankings.get(requirement)
        if ranking is None:
            assert requirement is not None
            if len(self._rankings) > MAX_RANKINGS:
                oldest = min((r for r in self._rankings if r), key=self._used)
                del self._rankings[oldest]
            ranking = self._rankings[requirement] = _Ranking(requirement)
            holders: list[set[str]] = [self._by_skill.get(s, set()) for s in requirement.skills]
            rarest = min(holders, key=len)
            for agent_id in sorted(rarest, key=lambda a: self.agents[a].order):
                ranking.put(self.agents[agent_id], self._stamp[agent_id])
        ranking.used = next(self._uses)
        return ranking

    def _used(self, requirement: Requirement | None) -> int:
        return self._rankings[requirement].used

    def _rebuild(self, ranking: _Ranking) -> None:
        ranking.by_idle, ranking.by_load = [], []
        for agent_id in ranking.eligible:
            ranking.push(self.agents[agent_id], self._stamp[agent_id])

    def _current(self, agent_id: str, stamp: int) -> bool:
        return self._stamp.get(agent_id) == stamp and self.agents[agent_id].eligible

    def _top(
        self, heap: list[tuple[Any, ...]], exclude: Collection[str], *, stamp_at: int
    ) -> str | None:
        skipped = []
        chosen = None
        while heap:
            entry = heap[0]
            agent_id, stamp = entry[-1], entry[stamp_at]
            if not self._current(agent_id, stamp):
                heapq.heappop(heap)  # stale: the agent changed after this entry was pushed
                continue
            if agent_id in exclude:
                skipped.append(heapq.heappop(heap))
                continue
            chosen = agent_id
            break
        for entry in skipped:
            heapq.heappush(heap, entry)
        return chosen

    def _next_in_rotation(self, ranking: _Ranking, exclude: Collection[str]) -> str | None:
        """The best match's members in rotation from the cursor; the next best if none."""
        for score in sorted(ranking.members, reverse=True):
            members = ranking.members[score]
            start = bisect.bisect_right(members, (self._cursor, "\uffff"))
            for _, agent_id in _rotated(members, start):
                if self.agents[agent_id].eligible and agent_id not in exclude:
                    return agent_id
        return None


def _rotated(members: list[tuple[int, str]], start: int) -> Iterator[tuple[int, str]]:
    yield from members[start:]
    yield from members[:start]
