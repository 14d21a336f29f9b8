"""What routing decides about a task (a session handed off or requested), its offers and the
agents who take it (R3, R4, R6). Pure: time and ids come in; the states are ``state``'s.

Exactly one winner and no agent over capacity: accepting appends to the task's stream and to
the agent's stream in one transaction, each with its expected version. Two agents accepting
the same task cannot both commit (the task stream), and one agent accepting two tasks past its
capacity cannot either (the agent stream)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from routing_svc.domain.state import AgentState, Offer, Task, TaskStatus, evolve_task
from support_contracts import Event, routing
from support_contracts.refusals import NotAllowed, NotFound, StateForbids
from support_contracts.vocabulary import AgentStatus


def make_offers(
    task: Task,
    agent_ids: list[str],
    *,
    offer_ids: list[UUID],
    now: datetime,
    timeout: timedelta,
) -> list[Event]:
    """R4: reserve the task for these agents until the offer times out."""
    if task.status is not TaskStatus.WAITING or task.id is None or task.session_id is None:
        return []
    excluded = task.excluded()
    return [
        routing.OfferMade(
            offer_id=offer_id,
            task_id=task.id,
            session_id=task.session_id,
            agent_id=agent_id,
            expires_at=now + timeout,
        )
        for agent_id, offer_id in zip(agent_ids, offer_ids, strict=False)
        if agent_id not in excluded
    ]


def _offer_for(task: Task, offer_id: UUID, agent_id: str) -> Offer:
    offer = task.offers.get(offer_id)
    if offer is None:
        raise NotFound("unknown_offer", "there is no such offer")
    if offer.agent_id != agent_id:
        raise NotAllowed("not_your_offer", "this offer was made to another agent")
    if task.status is TaskStatus.ASSIGNED:
        raise StateForbids("taken", "another agent has taken this session")
    if task.status is TaskStatus.WITHDRAWN or not offer.open:
        raise StateForbids("offer_closed", "this offer is no longer open")
    return offer


def accept_offer(
    task: Task, agent: AgentState, offer_id: UUID, agent_id: str, *, now: datetime
) -> tuple[list[Event], list[Event]]:
    """R6: the events for the task's stream and for the agent's stream, recorded together.
    Accepting again the offer one has won changes nothing and succeeds (a retried request)."""
    if task.accepted_offer == offer_id and task.assigned_to == agent_id:
        return [], []
    offer = _offer_for(task, offer_id, agent_id)
    if now > offer.expires_at:
        raise StateForbids("offer_expired", "this offer has expired")
    if not agent.can_take_work:
        raise StateForbids("at_capacity", "you cannot take another session now")
    assert task.id is not None and task.session_id is not None
    others = [o for o in task.open_offers() if o.id != offer_id]
    task_events: list[Event] = [
        routing.OfferAccepted(
            offer_id=offer_id,
            task_id=task.id,
            session_id=task.session_id,
            agent_id=agent_id,
            agent_name=agent.name or agent_id,
        ),
        *(
            routing.OfferWithdrawn(
                offer_id=o.id,
                task_id=task.id,
                session_id=task.session_id,
                agent_id=o.agent_id,
                reason=routing.WithdrawReason.ACCEPTED_BY_ANOTHER,
            )
            for o in others
        ),
    ]
    agent_events: list[Event] = [
        routing.AgentSessionStarted(agent_id=agent_id, session_id=task.session_id, task_id=task.id)
    ]
    return task_events, agent_events


def _chosen_agent_may_take(task: Task, agent: AgentState, agent_id: str) -> None:
    """A session someone hands to an agent by hand (an assignment, a supervisor's offer): it is
    waiting, and the agent is configured and available."""
    if task.status is not TaskStatus.WAITING or task.id is None or task.session_id is None:
        raise StateForbids("not_waiting", "that session is not waiting for an agent")
    if agent.id is None:
        raise NotFound("unknown_agent", f"no agent {agent_id} is configured")
    if agent.status is not AgentStatus.AVAILABLE:
        raise StateForbids(
            "agent_unavailable", f"{agent_id} is {agent.status.value}, not available"
        )


def assign_task(
    task: Task, agent: AgentState, agent_id: str, *, offer_id: UUID, by: str, now: datetime
) -> tuple[list[Event], list[Event]]:
    """Issue 14.2: an admin assigns a waiting session to an agent, recorded as an offer made and
    accepted at once on the agent's behalf (``assigned_by``), with the capacity an agent's own
    accept has (R6: none over capacity). Asked again, the assignment made changes nothing."""
    if task.accepted_offer == offer_id and task.assigned_to == agent_id:
        return [], []
    _chosen_agent_may_take(task, agent, agent_id)
    assert task.id is not None and task.session_id is not None
    made = routing.OfferMade(
        offer_id=offer_id,
        task_id=task.id,
        session_id=task.session_id,
        agent_id=agent_id,
        expires_at=now,
    )
    task_events, agent_events = accept_offer(
        evolve_task(made, task, now), agent, offer_id, agent_id, now=now
    )
    accepted, *withdrawn = task_events
    assert isinstance(accepted, routing.OfferAccepted)
    return [made, accepted.model_copy(update={"assigned_by": by}), *withdrawn], agent_events


def offer_to_agent(
    task: Task,
    agent: AgentState,
    agent_id: str,
    *,
    offer_id: UUID,
    by: str,
    now: datetime,
    timeout: timedelta,
) -> list[Event]:
    """R17: a supervisor offers a waiting session to an agent of their choosing, who answers it
    as any offer (``offered_by``). Not to an agent who is not available, has no free slot, has
    an offer of it open, or declined it (R4). Asked again, the offer made changes nothing."""
    if offer_id in task.offers:
        return []
    _chosen_agent_may_take(task, agent, agent_id)
    assert task.id is not None and task.session_id is not None
    if not agent.can_take_work:
        raise StateForbids("at_capacity", f"{agent_id} has no free slot")
    if agent_id in task.declined:
        raise StateForbids("declined_before", f"{agent_id} declined this session (R4)")
    if agent_id in {o.agent_id for o in task.open_offers()}:
        raise StateForbids("already_offered", f"{agent_id} has an offer of this session open")
    return [
        routing.OfferMade(
            offer_id=offer_id, task_id=task.id, session_id=task.session_id, agent_id=agent_id,
            expires_at=now + timeout, offered_by=by,
        )
    ]  # fmt: skip


def decline_offer(task: Task, offer_id: UUID, agent_id: str) -> list[Event]:
    """R4: a decliner is not offered this session again."""
    _offer_for(task, offer_id, agent_id)
    assert task.id is not None and task.session_id is not None
    return [
        routing.OfferDeclined(
            offer_id=offer_id, task_id=task.id, session_id=task.session_id, agent_id=agent_id
        )
    ]


def expire_offers(task: Task, *, now: datetime) -> list[Event]:
    """R4: an offer not answered in time expires and routing moves on."""
    if task.status is not TaskStatus.WAITING or task.id is None or task.session_id is None:
        return []
    return [
        routing.OfferExpired(
            offer_id=o.id, task_id=task.id, session_id=task.session_id, agent_id=o.agent_id
        )
        for o in task.open_offers()
        if now > o.expires_at
    ]


def escalate(task: Task, *, now: datetime, after: timedelta) -> list[Event]:
    """R4: past the queue's threshold a waiting session goes to every eligible agent."""
    if (
        task.status is not TaskStatus.WAITING
        or task.escalated
        or task.queued_at is None
        or now - task.queued_at < after
        or task.id is None
        or task.session_id is None
    ):
        return []
    return [routing.TaskEscalated(task_id=task.id, session_id=task.session_id)]


def overflow(
    task: Task, queue: routing.QueueDefinition, *, now: datetime, estimated_wait: float | None
) -> list[Event]:
    """R14: past the queue's wait, or with an estimated wait over its threshold, a waiting
    session is offered in the overflow queue too (once)."""
    if (
        task.status is not TaskStatus.WAITING
        or task.overflow_queue_id is not None
        or queue.overflow_queue_id is None
        or task.queued_at is None
        or task.id is None
        or task.session_id is None
    ):
        return []
    waited = (now - task.queued_at).total_seconds()
    over = queue.overflow_when_estimated_wait_over_seconds
    if queue.overflow_after_seconds is not None and waited >= queue.overflow_after_seconds:
        reason = routing.OverflowReason.WAITED
    elif over is not None and estimated_wait is not None and estimated_wait > over:
        reason = routing.OverflowReason.ESTIMATED_WAIT
    else:
        return []
    return [
        routing.TaskOverflowed(
            task_id=task.id, session_id=task.session_id, queue_id=queue.overflow_queue_id,
            reason=reason,
        )
    ]  # fmt: skip


def withdraw_task(task: Task, reason: routing.WithdrawReason) -> list[Event]:
    """A session that ended while waiting leaves the queue, and its offers are withdrawn."""
    if task.status is not TaskStatus.WAITING or task.id is None or task.session_id is None:
        return []
    return [
        *_withdraw_offers(task, task.open_offers(), reason),
        routing.TaskWithdrawn(task_id=task.id, session_id=task.session_id, reason=reason),
    ]


def _withdraw_offers(
    task: Task, offers: Iterable[Offer], reason: routing.WithdrawReason
) -> list[Event]:
    assert task.id is not None and task.session_id is not None  # a waiting task
    return [
        routing.OfferWithdrawn(
            offer_id=o.id,
            task_id=task.id,
            session_id=task.session_id,
            agent_id=o.agent_id,
            reason=reason,
        )
        for o in offers
    ]


def queue_task(
    task: Task, queued: routing.TaskQueued
) -> tuple[list[Event], list[routing.AgentSessionFinished]]:
    """A hand-off or an entry form: the session waits for an agent (R4, R5, R8). Events for the
    session's routing stream, and for the stream of the agent who held it and handed it on
    (its slot is free: R7)."""
    case_events: list[Event] = []
    if task.status is TaskStatus.WAITING:  # handed again before anyone took it
        case_events += withdraw_task(task, routing.WithdrawReason.HANDED_AGAIN)
    return [*case_events, queued], _finished(task)


def requeue_task(
    task: Task, queued: routing.TaskQueued
) -> tuple[list[Event], list[routing.AgentSessionFinished]]:
    """Issue 14.2: an admin's requeue starts a new task unless an agent took the session in the
    meantime (the session then has its controller, and keeps it)."""
    if task.status is TaskStatus.ASSIGNED:
        return [], []
    kept = {"message": task.message, "request_id": task.request_id}  # the customer's, still
    return queue_task(task, queued.model_copy(update=kept))


def end_task(
    task: Task, *, now: datetime
) -> tuple[list[Event], list[routing.AgentSessionFinished]]:
    """The session ended: a waiting task leaves its queue (offers withdrawn; in a queue it
    counts as abandoned, R15), an agent holding the session has its slot back (R6, R7). Either
    way the task is closed in its stream, so an end heard twice (at-least-once delivery, or a
    second event saying so) frees nothing twice."""
    if task.status is TaskStatus.ASSIGNED and task.id is not None and task.session_id is not None:
        closed = routing.TaskWithdrawn(
            task_id=task.id, session_id=task.session_id, reason=routing.WithdrawReason.SESSION_ENDED
        )
        return [closed], _finished(task)
    withdrawn = withdraw_task(task, routing.WithdrawReason.SESSION_ENDED)
    if withdrawn and task.queue_id is not None and task.queued_at is not None:
        assert task.id is not None and task.session_id is not None
        waited = max(0.0, (now - task.queued_at).total_seconds())
        withdrawn.append(
            routing.TaskAbandoned(
                task_id=task.id,
                session_id=task.session_id,
                queue_id=task.queue_id,
                waited_seconds=waited,
            )
        )
    return withdrawn, []


def _finished(task: Task) -> list[routing.AgentSessionFinished]:
    if task.status is not TaskStatus.ASSIGNED or task.assigned_to is None:
        return []
    assert task.session_id is not None
    return [routing.AgentSessionFinished(agent_id=task.assigned_to, session_id=task.session_id)]


def withdraw_offers_of(task: Task, agent_id: str, reason: routing.WithdrawReason) -> list[Event]:
    """R3: an agent who went away or offline keeps no open offer; the session moves on."""
    if task.status is not TaskStatus.WAITING or task.id is None or task.session_id is None:
        return []
    return _withdraw_offers(task, [o for o in task.open_offers() if o.agent_id == agent_id], reason)
