"""What routing's view answers (R5, R15, R16): a waiting session's place and estimated wait,
a queue's longest wait, its agents by state, and how long it takes to move on by one place."""

from __future__ import annotations

from datetime import datetime
from statistics import fmean
from typing import TYPE_CHECKING
from uuid import UUID

from routing_svc.domain.state import Task
from routing_svc.view_parts import Standing
from support_contracts.vocabulary import AgentStatus

if TYPE_CHECKING:
    from routing_svc.view import RoutingView


def standing_of(view: RoutingView, session_id: UUID, now: datetime) -> Standing | None:
    """R5: position (1 is next) and the estimated wait: the queue's mean handling time over
    its last finished sessions, times the position, divided by the slots of its available
    agents; unknown until a session of the queue has finished or when nobody is available.
    """
    task = view.tasks.get(session_id)
    if task is None:
        return None
    position = position_of(view, task, now)
    if task.queue_id is None or position is None:
        return Standing(session_id, None, None, 0, None)
    per_place = seconds_per_place(view, task.queue_id)
    estimate = per_place * position if per_place is not None else None
    return Standing(session_id, task.queue_id, position, len(view.waiting[task.queue_id]), estimate)


def position_of(view: RoutingView, task: Task, now: datetime) -> int | None:
    """A waiting task's place in its queue (1 is next; R10: by priority, then age); None for
    one handed to named agents."""
    if task.queue_id is None or task.session_id is None:
        return None
    return view.waiting[task.queue_id].rank(view.keys[task.session_id], now) + 1


def longest_wait(view: RoutingView, queue_id: UUID, now: datetime) -> float | None:
    """R16: how long the queue's longest-waiting session has waited."""
    oldest = view.waiting[queue_id].oldest() if queue_id in view.waiting else None
    return max(0.0, (now - oldest).total_seconds()) if oldest else None


def agents_by_state(view: RoutingView, queue_id: UUID) -> dict[str, int]:
    """R16: the queue's agents: available with a free slot, busy, wrapping up, away,
    offline."""
    states = dict.fromkeys(("available", "busy", "wrapping_up", "away", "offline"), 0)
    pool = view.pools.get(queue_id)
    for agent_id in pool.agents if pool else ():
        agent = view.agents[agent_id]
        if agent.status is not AgentStatus.AVAILABLE:
            states[agent.status.value] += 1
        elif agent.wrap_ups:
            states["wrapping_up"] += 1
        else:
            states["available" if agent.load < agent.capacity else "busy"] += 1
    return states


def seconds_per_place(view: RoutingView, queue_id: UUID) -> float | None:
    """R5, R15: about how long the queue takes to move on by one: its mean handling time
    over its last finished sessions, divided by the slots of its available agents."""
    handled = view.handling.get(queue_id)
    pool = view.pools.get(queue_id)
    slots = sum(
        a.capacity
        for a in (pool.agents.values() if pool else ())
        if a.status is AgentStatus.AVAILABLE
    )
    return fmean(handled) / slots if handled and slots else None
