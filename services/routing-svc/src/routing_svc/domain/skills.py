"""R9: what a waiting session needs of an agent now, and how well an agent meets it.

A queue names skills and a minimum proficiency (1 when not given); a hand-off or an entry form
may add skills. Only agents with every needed skill at the minimum or better are offered the
session, the best match first: the highest sum of proficiencies in the needed skills. As the
session waits, the queue's relaxation steps fall due one by one, each dropping a skill or
lowering the minimum, so the match widens; with no skill left, any member qualifies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from support_contracts.routing import QueueDefinition


@dataclass(frozen=True)
class Requirement:
    skills: frozenset[str]
    minimum: int = 1

    def score(self, skills: Mapping[str, int]) -> int | None:
        """How well an agent with these skills matches (higher is better); None: it does not."""
        total = 0
        for skill in self.skills:
            proficiency = skills.get(skill, 0)
            if proficiency < self.minimum:
                return None
            total += proficiency
        return total


def requirement(
    definition: QueueDefinition, added: Iterable[str], *, queued_at: datetime, now: datetime
) -> Requirement | None:
    """What a session queued at ``queued_at`` in this queue needs now; None: nothing, any
    member of the queue qualifies."""
    skills = set(definition.required_skills or ()) | set(added)
    minimum = definition.minimum_proficiency or 1
    for step in definition.relaxation or ():
        if now - queued_at < timedelta(seconds=step.after_seconds):
            break
        if step.drop_skill is not None:
            skills.discard(step.drop_skill)
        if step.lower_minimum_to is not None:
            minimum = step.lower_minimum_to
    return Requirement(frozenset(skills), minimum) if skills else None


def relaxation_times(definition: QueueDefinition, queued_at: datetime) -> list[datetime]:
    """When the session's match widens, step by step."""
    return [queued_at + timedelta(seconds=s.after_seconds) for s in definition.relaxation or ()]
