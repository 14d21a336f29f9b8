"""R4, R6: offers, acceptance, declines, expiry, escalation and withdrawal of a task; an admin's
assignment and requeue of a waiting one (issue 14.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from routing_svc.domain.state import AgentState, Task, TaskStatus, evolve_agent, evolve_task
from routing_svc.domain.tasks import (
    accept_offer,
    assign_task,
    decline_offer,
    end_task,
    escalate,
    expire_offers,
    make_offers,
    requeue_task,
    withdraw_task,
)
from support_contracts import Event
from support_contracts.refusals import NotAllowed, NotFound, StateForbids
from support_contracts.routing import (
    AgentConfigured,
    AgentSessionFinished,
    AgentSessionStarted,
    AgentStatusChanged,
    OfferAccepted,
    OfferWithdrawn,
    TaskQueued,
    TaskSource,
    WithdrawReason,
)
from support_contracts.vocabulary import AgentStatus

T0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
TIMEOUT = timedelta(seconds=30)
SESSION = UUID(int=1)


def apply(task: Task, events: list[Event], at: datetime = T0) -> Task:
    for event in events:
        task = evolve_task(event, task, at)
    return task


def waiting() -> Task:
    return apply(
        Task(),
        [
            TaskQueued(
                task_id=uuid4(), session_id=SESSION, source=TaskSource.HAND_OFF, queue_id=uuid4()
            )
        ],
    )


def offered(task: Task, *agents: str) -> tuple[Task, list[UUID]]:
    ids = [uuid4() for _ in agents]
    return apply(task, make_offers(task, list(agents), offer_ids=ids, now=T0, timeout=TIMEOUT)), ids


def agent(agent_id: str, capacity: int = 2, holding: int = 0) -> AgentState:
    state = AgentState()
    for event in [
        AgentConfigured(agent_id=agent_id, name=agent_id.title(), max_sessions=capacity),
        AgentStatusChanged(agent_id=agent_id, status=AgentStatus.AVAILABLE),
        *(
            AgentSessionStarted(agent_id=agent_id, session_id=uuid4(), task_id=uuid4())
            for _ in range(holding)
        ),
    ]:
        state = evolve_agent(event, state)
    return state


def test_r5_named_agents_are_offered_at_once_and_the_first_accept_wins() -> None:
    task, [ann_offer, ben_offer] = offered(waiting(), "ann", "ben")
    task_events, agent_events = accept_offer(task, agent("ben"), ben_offer, "ben", now=T0)
    assert isinstance(task_events[0], OfferAccepted) and task_events[0].agent_name == "Ben"
    assert [e.offer_id for e in task_events if isinstance(e, OfferWithdrawn)] == [ann_offer]
    assert agent_events == [
        AgentSessionStarted(agent_id="ben", session_id=SESSION, task_id=task.id)
    ]
    taken = apply(task, task_events)
    assert (taken.status, taken.assigned_to) == (TaskStatus.ASSIGNED, "ben")
    with pytest.raises(StateForbids, match="another agent has taken"):
        accept_offer(taken, agent("ann"), ann_offer, "ann", now=T0)


def test_r6_an_agent_at_capacity_or_away_cannot_accept() -> None:
    task, [offer] = offered(waiting(), "ann")
    with pytest.raises(StateForbids, match="cannot take another session"):
        accept_offer(task, agent("ann", capacity=2, holding=2), offer, "ann", now=T0)
    away = evolve_agent(AgentStatusChanged(agent_id="ann", status=AgentStatus.AWAY), agent("ann"))
    with pytest.raises(StateForbids):
        accept_offer(task, away, offer, "ann", now=T0)


def test_r4_offers_are_only_for_their_agent_and_only_while_open() -> None:
    task, [offer] = offered(waiting(), "ann")
    with pytest.raises(NotAllowed):
        accept_offer(task, agent("ben"), offer, "ben", now=T0)
    with pytest.raises(NotFound):
        accept_offer(task, agent("ann"), uuid4(), "ann", now=T0)
    with pytest.raises(StateForbids, match="expired"):
        accept_offer(task, agent("ann"), offer, "ann", now=T0 + TIMEOUT + timedelta(seconds=1))


def test_r4_a_decliner_is_not_offered_the_session_again() -> None:
    task, [offer] = offered(waiting(), "ann")
    task = apply(task, decline_offer(task, offer, "ann"))
    assert make_offers(task, ["ann"], offer_ids=[uuid4()], now=T0, timeout=TIMEOUT) == []
    assert len(make_offers(task, ["ben"], offer_ids=[uuid4()], now=T0, timeout=TIMEOUT)) == 1


def test_r4_an_agent_holds_one_offer_of_a_task_at_a_time() -> None:
    task, _ = offered(waiting(), "ann")
    assert make_offers(task, ["ann"], offer_ids=[uuid4()], now=T0, timeout=TIMEOUT) == []


def test_r4_unanswered_offers_expire_and_routing_moves_on() -> None:
    task, [offer] = offered(waiting(), "ann")
    assert expire_offers(task, now=T0 + TIMEOUT) == []
    expired = expire_offers(task, now=T0 + TIMEOUT + timedelta(seconds=1))
    assert [e.offer_id for e in expired] == [offer]  # type: ignore[attr-defined]
    task = apply(task, expired)
    assert not task.open_offers()
    assert not task.may_be_offered_to("ann") and task.may_be_offered_to("ben")  # moves on
    escalated = apply(task, escalate(task, now=T0 + timedelta(hours=1), after=TIMEOUT))
    assert escalated.may_be_offered_to("ann")  # escalated: every eligible agent again


def test_r4_past_the_threshold_a_waiting_task_escalates_once() -> None:
    task = waiting()
    assert escalate(task, now=T0 + timedelta(seconds=59), after=timedelta(seconds=60)) == []
    [escalated] = escalate(task, now=T0 + timedelta(seconds=60), after=timedelta(seconds=60))
    task = apply(task, [escalated])
    assert escalate(task, now=T0 + timedelta(hours=1), after=timedelta(seconds=60)) == []


def test_a_session_that_ended_while_waiting_is_withdrawn_with_its_offers() -> None:
    task, [offer] = offered(waiting(), "ann")
    events = withdraw_task(task, WithdrawReason.SESSION_ENDED)
    task = apply(task, events)
    assert task.status is TaskStatus.WITHDRAWN and not task.open_offers()
    with pytest.raises(StateForbids, match="no longer open"):
        accept_offer(task, agent("ann"), offer, "ann", now=T0)
    assert withdraw_task(task, WithdrawReason.SESSION_ENDED) == []


def test_r7_an_assigned_session_that_ends_frees_its_agent_once_however_often_it_is_told() -> None:
    task, [offer] = offered(waiting(), "ann")
    task_events, _ = accept_offer(task, agent("ann"), offer, "ann", now=T0)
    task = apply(task, task_events)
    assert task.status is TaskStatus.ASSIGNED

    closed, freed = end_task(task, now=T0)
    assert freed == [AgentSessionFinished(agent_id="ann", session_id=SESSION)]
    task = apply(task, closed)
    assert task.status is TaskStatus.WITHDRAWN
    assert end_task(task, now=T0) == ([], [])  # the same end heard again: nothing to free


def test_r4_a_waiting_session_that_ends_leaves_its_queue_and_frees_nobody() -> None:
    task, [offer] = offered(waiting(), "ann")
    closed, freed = end_task(task, now=T0)
    assert freed == []
    assert [type(e).__name__ for e in closed][:2] == ["OfferWithdrawn", "TaskWithdrawn"]
    assert offer in {e.offer_id for e in closed if isinstance(e, OfferWithdrawn)}
    assert end_task(apply(task, closed), now=T0) == ([], [])


def test_issue_14_2_an_admin_assigns_a_waiting_session_within_the_agents_capacity() -> None:
    task, [ann_offer] = offered(waiting(), "ann")
    assigned = uuid4()
    with pytest.raises(NotFound, match="no agent"):
        assign_task(task, AgentState(), "ghost", offer_id=assigned, by="root", now=T0)
    away = evolve_agent(AgentStatusChanged(agent_id="ben", status=AgentStatus.AWAY), agent("ben"))
    with pytest.raises(StateForbids, match="away, not available"):
        assign_task(task, away, "ben", offer_id=assigned, by="root", now=T0)
    full = agent("ben", capacity=2, holding=2)
    with pytest.raises(StateForbids, match="cannot take another session"):
        assign_task(task, full, "ben", offer_id=assigned, by="root", now=T0)

    task_events, agent_events = assign_task(
        task, agent("ben"), "ben", offer_id=assigned, by="root", now=T0
    )
    kinds = [type(e).__name__ for e in task_events]
    assert kinds == ["OfferMade", "OfferAccepted", "OfferWithdrawn"]
    accepted = task_events[1]
    assert isinstance(accepted, OfferAccepted)
    assert (accepted.agent_id, accepted.assigned_by, accepted.offer_id) == ("ben", "root", assigned)
    assert [e.offer_id for e in task_events if isinstance(e, OfferWithdrawn)] == [ann_offer]
    assert agent_events == [
        AgentSessionStarted(agent_id="ben", session_id=SESSION, task_id=task.id)
    ]
    taken = apply(task, task_events)
    assert (taken.status, taken.assigned_to) == (TaskStatus.ASSIGNED, "ben")
    again = assign_task(taken, agent("ben", holding=1), "ben", offer_id=assigned, by="root", now=T0)
    assert again == ([], [])  # the same command delivered twice
    with pytest.raises(StateForbids, match="not waiting"):
        assign_task(taken, agent("ann"), "ann", offer_id=uuid4(), by="root", now=T0)


def test_issue_14_2_a_requeue_starts_a_new_task_unless_an_agent_took_the_session() -> None:
    form = uuid4()
    first = apply(
        Task(),
        [TaskQueued(task_id=uuid4(), session_id=SESSION, source=TaskSource.ENTRY_FORM,
                    queue_id=uuid4(), request_id=form, message="the printer smokes")],
    )  # fmt: skip
    task, [offer] = offered(first, "ann")
    elsewhere = TaskQueued(
        task_id=uuid4(), session_id=SESSION, source=TaskSource.REQUEUE, queue_id=uuid4()
    )
    case_events, freed = requeue_task(task, elsewhere)
    assert freed == []
    assert [type(e).__name__ for e in case_events] == [
        "OfferWithdrawn",
        "TaskWithdrawn",
        "TaskQueued",
    ]
    requeued = apply(task, case_events)
    assert (requeued.id, requeued.queue_id) == (elsewhere.task_id, elsewhere.queue_id)
    assert (requeued.request_id, requeued.message) == (form, "the printer smokes")
    assert not requeued.open_offers()

    accepted, _ = accept_offer(task, agent("ann"), offer, "ann", now=T0)
    assert requeue_task(apply(task, accepted), elsewhere) == ([], [])  # ann took it meanwhile
