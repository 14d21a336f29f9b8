"""The agents of one queue and who gets the next offer (R2, R3).

Eligible: available and below capacity. The four policies, one sentence each:
- ``most_idle``: the eligible agent free for longest (ties: the queue's member order);
- ``least_busy``: the eligible agent with the fewest sessions now (ties: most idle first);
- ``round_robin``: the next eligible agent after the last one offered, in member order;
- ``everybody``: every eligible agent at once, in member order.

A decision must not cost time linear in the number of agents: ``most_idle`` and
``least_busy`` keep heaps whose stale entries (an agent changed since it was pushed) are
dropped when they reach the top, so a pick costs O(log n) plus the agents it must skip
(those a task excludes: they declined it, or already hold an offer for it). ``round_robin``
walks the member order from a cursor, skipping agents who cannot take work.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from support_contracts.vocabulary import AgentStatus


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

    @property
    def eligible(self) -> bool:
        return (
            self.status is AgentStatus.AVAILABLE
            and self.load < self.capacity
            and self.free_since is not None
        )


@dataclass
class AgentPool:
    agents: dict[str, Agent] = field(default_factory=dict)
    _stamp: dict[str, int] = field(default_factory=dict)
    _members: list[tuple[int, str]] = field(default_factory=list)  # (order, id), kept sorted
    _by_idle: list[tuple[Any, ...]] = field(default_factory=list)  # (free_since, order, ...)
    _by_load: list[tuple[Any, ...]] = field(default_factory=list)  # (load, free_since, ...)
    _cursor: int = -1
    _eligible: set[str] = field(default_factory=set)

    # --- what happens to agents -----------------------------------------------------------------

    def put(self, agent: Agent) -> None:
        """An agent added or changed; the heaps get a fresh entry, older ones go stale."""
        if agent.id not in self.agents:
            bisect.insort(self._members, (agent.order, agent.id))
        self.agents[agent.id] = agent
        if agent.eligible:
            self._eligible.add(agent.id)
        else:
            self._eligible.discard(agent.id)
        stamp = self._stamp.get(agent.id, 0) + 1
        self._stamp[agent.id] = stamp
        if agent.eligible:
            assert agent.free_since is not None
            heapq.heappush(self._by_idle, (agent.free_since, agent.order, stamp, agent.id))
            entry = (agent.load, agent.free_since, agent.order, stamp, agent.id)
            heapq.heappush(self._by_load, entry)

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
        return bool(self._eligible)

    def pick(self, policy: Policy, exclude: Collection[str] = ()) -> list[str]:
        """The agents to offer a task to now: one, or for ``everybody`` all eligible."""
        if policy is Policy.EVERYBODY:
            everyone = [(self.agents[i].order, i) for i in self._eligible if i not in exclude]
            return [agent_id for _, agent_id in sorted(everyone)]
        if policy is Policy.ROUND_ROBIN:
            chosen = self._next_in_rotation(exclude)
        elif policy is Policy.MOST_IDLE:
            chosen = self._top(self._by_idle, exclude, stamp_at=2)
        else:
            chosen = self._top(self._by_load, exclude, stamp_at=3)
        return [chosen] if chosen is not None else []

    def offered(self, agent_id: str) -> None:
        """Round robin goes on after the agent last offered a task."""
        self._cursor = self.agents[agent_id].order

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

    def _next_in_rotation(self, exclude: Collection[str]) -> str | None:
        start = bisect.bisect_right(self._members, (self._cursor, "\uffff"))
        for _, agent_id in _rotated(self._members, start):
            agent = self.agents[agent_id]
            if agent.eligible and agent_id not in exclude:
                return agent_id
        return None


def _rotated(members: list[tuple[int, str]], start: int) -> Iterator[tuple[int, str]]:
    yield from members[start:]
    yield from members[:start]
