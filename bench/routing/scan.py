"""The peer of ``AgentPool`` in routing-svc's benchmark: the plain way, every agent looked at
for each decision (without skills, and with them: R9)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from routing_svc.domain.pool import Agent
from routing_svc.domain.skills import Requirement


class Scan:
    def __init__(self, agents: list[Agent]) -> None:
        self.agents = {a.id: a for a in agents}

    def pick(self) -> str:
        """The eligible agent free longest."""
        eligible = (a for a in self.agents.values() if a.eligible)
        return min(eligible, key=lambda a: (a.free_since, a.order)).id

    def pick_for(self, needs: Requirement) -> str | None:
        """The eligible best match free longest; None if no eligible agent meets ``needs``."""
        best: tuple[int, datetime, int] | None = None
        chosen = None
        for a in self.agents.values():
            if not a.eligible or (score := needs.score(a.skills)) is None:
                continue
            assert a.free_since is not None
            if best is None or (-score, a.free_since, a.order) < best:
                best, chosen = (-score, a.free_since, a.order), a.id
        return chosen

    def take(self, agent_id: str) -> None:
        a = self.agents[agent_id]
        self.agents[agent_id] = replace(a, load=a.load + 1)

    def free(self, agent_id: str, at: datetime) -> None:
        a = self.agents[agent_id]
        self.agents[agent_id] = replace(a, load=a.load - 1, free_since=at)
