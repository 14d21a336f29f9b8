"""The router's offers (R4, R5, R7, R9, R10, R18): which waiting sessions to offer to which
agents now, decided from the view and applied to it at once (``RoutingView.reserve``), before
they are recorded, so the next decision counts them; and when to look at a session again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from routing_svc.domain.pool import Policy
from routing_svc.domain.skills import relaxation_times, requirement
from routing_svc.domain.state import Task
from routing_svc.domain.tasks import make_offers
from routing_svc.view_parts import Offering
from support_contracts.routing import OfferMade

if TYPE_CHECKING:
    from routing_svc.view import RoutingView


def plan(view: RoutingView, *, now: datetime, new_id: Callable[[], UUID]) -> list[Offering]:
    """R4, R5, R7: offer waiting sessions, oldest first, to the agents who may take them;
    applied here at once (see the module's docstring). Named hand-offs first, then queues."""
    planned: dict[UUID, Offering] = {}

    def offer(task: Task, agent_ids: list[str], timeout: timedelta) -> None:
        ids = [new_id() for _ in agent_ids]
        events = make_offers(task, agent_ids, offer_ids=ids, now=now, timeout=timeout)
        made = [e for e in events if isinstance(e, OfferMade)]
        if made:
            assert task.session_id is not None
            planned.setdefault(task.session_id, Offering(task.session_id, task)).events += made
            view.reserve(task, made, now)

    agents, view.dirty_agents = sorted(view.dirty_agents), set()
    for agent_id in agents:
        agent = view.agents.get(agent_id)
        for key in list(view.named.get(agent_id, ())):
            if agent is None or not agent.eligible:
                break
            task = view.tasks[key[2]]
            if task.may_be_offered_to(agent_id):
                offer(task, [agent_id], view.named_offer_timeout)
    queues, view.dirty_queues = sorted(view.dirty_queues), set()
    for queue_id in queues:
        _fill(view, queue_id, offer, now)
    return list(planned.values())


def _fill(
    view: RoutingView,
    queue_id: UUID,
    offer: Callable[[Task, list[str], timedelta], None],
    now: datetime,
) -> None:
    """The queue's sessions that want offers, in its order now (R10: priority, then age),
    offered while the pool has an agent who may take one."""
    pool, definition = view.pools.get(queue_id), view.queues.get(queue_id)
    if pool is None or definition is None:
        return
    timeout = timedelta(seconds=definition.offer_timeout_seconds)
    for key in view.wanting[queue_id].walk(now):
        if not pool.has_eligible():
            return
        task = view.tasks[key[2]]
        mode = view.mode(task, queue_id)
        assert mode is not None
        preferred = preferred_agent(view, task, now)
        if preferred is not None:  # R18: only the preferred agent, for now
            agent = view.agents.get(preferred)
            eligible = agent is not None and agent.eligible
            picks = [preferred] if eligible and task.may_be_offered_to(preferred) else []
        else:
            assert task.queued_at is not None
            needs = requirement(definition, task.skills, queued_at=task.queued_at, now=now)  # R9
            picks = pool.pick(mode, task.excluded(), needs)
        if picks:
            offer(task, picks, timeout)
            if mode is Policy.ROUND_ROBIN and preferred is None:
                pool.offered(picks[-1])


def preferred_agent(view: RoutingView, task: Task, now: datetime) -> str | None:
    """R18: the agent a queue's session waits for now: the preferred agent it names, a
    member of the queue, until the queue's ``preferred_agent_seconds`` have passed or the
    agent declined it or let an offer of it expire."""
    until = view.preferred_until(task)
    if until is None or now >= until:
        return None
    return task.preferred_agent


def deadlines_of(view: RoutingView, task: Task) -> list[datetime]:
    """When to look at a waiting task again: an offer expiring, the escalation threshold,
    R18's window closing, R14's overflow, R9's relaxation steps (in each queue it waits in)."""
    deadlines = [o.expires_at for o in task.open_offers()]
    definition = view.queue_of(task)
    if task.queued_at is None or definition is None:
        return deadlines
    if not task.escalated:
        deadlines.append(task.queued_at + timedelta(seconds=definition.escalation_seconds))
    if (preferred_until := view.preferred_until(task)) is not None:
        deadlines.append(preferred_until)  # then anyone may be offered it
    after = definition.overflow_after_seconds
    if after and task.overflow_queue_id is None:
        deadlines.append(task.queued_at + timedelta(seconds=after))
    for queue_id in task.lines():
        if (line := view.queues.get(queue_id)) is not None:
            deadlines += relaxation_times(line, task.queued_at)
    return deadlines
