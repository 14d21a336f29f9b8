"""R11 wrap-up in the pure domain, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import uuid4

import pytest

from routing_svc.domain.queues import configure_queue
from routing_svc.domain.state import AgentState, evolve_agent
from routing_svc.domain.wrap_ups import finish_wrap_up, start_wrap_up, time_out_wrap_up
from support_contracts.refusals import Invalid, StateForbids
from support_contracts.routing import (
    AgentConfigured,
    AgentSessionFinished,
    AgentSessionStarted,
    AgentStatusChanged,
    FinishWrapUp,
    OpeningHours,
    QueueDefinition,
    WrapUpFinished,
)
from support_contracts.vocabulary import AgentStatus, RoutingPolicy

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
QUEUE = uuid4()


def queue(**wrap_up: object) -> QueueDefinition:
    return QueueDefinition(
        name="Printers", agent_ids=["ann"], policy=RoutingPolicy.MOST_IDLE,
        time_zone="Europe/Prague", hours=[OpeningHours(weekday=0, opens=time(9), closes=time(17))],
        escalation_seconds=600, offer_timeout_seconds=30, **wrap_up,  # type: ignore[arg-type]
    )  # fmt: skip


def finish(session: object, code: str | None = None) -> FinishWrapUp:
    return FinishWrapUp.new(agent_id="ann",
                        session_id=session, code=code)  # type: ignore[arg-type]  # fmt: skip


def ann_after(definition: QueueDefinition) -> tuple[AgentState, object]:
    """ann, capacity 1, whose session of the queue just ended (at T0)."""
    session = uuid4()
    ann = AgentState()
    for event in (
        AgentConfigured(agent_id="ann", name="Ann", max_sessions=1),
        AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE),
        AgentSessionStarted(agent_id="ann", session_id=session, task_id=uuid4()),
    ):
        ann = evolve_agent(event, ann, T0)
    finished = AgentSessionFinished(agent_id="ann", session_id=session)
    for event in [finished, *start_wrap_up(finished, QUEUE, definition, now=T0)]:
        ann = evolve_agent(event, ann, T0)
    return ann, session


def test_r11_the_slot_stays_taken_while_the_agent_wraps_up() -> None:
    ann, _ = ann_after(queue(wrap_up_seconds=90, wrap_up_codes=["resolved"]))
    assert not ann.can_take_work and ann.load == 1  # the session ended, the wrap-up holds it
    [wrapping] = ann.wrapping
    assert (wrapping.until, wrapping.codes) == (T0 + timedelta(seconds=90), ["resolved"])
    assert time_out_wrap_up(ann, wrapping.session_id, now=T0 + timedelta(seconds=89)) == []
    [timed_out] = time_out_wrap_up(ann, wrapping.session_id, now=T0 + timedelta(seconds=90))
    assert isinstance(timed_out, WrapUpFinished) and timed_out.timed_out
    assert evolve_agent(timed_out, ann).can_take_work
    free, _ = ann_after(queue())  # no wrap-up: free at the end
    assert free.can_take_work


def test_r11_finishing_takes_a_code_of_the_queue_s_list_where_it_is_required() -> None:
    codes = ["resolved", "escalated"]
    ann, session = ann_after(
        queue(wrap_up_seconds=90, wrap_up_codes=codes, wrap_up_code_required=True)
    )
    with pytest.raises(Invalid, match="one of resolved, escalated"):
        finish_wrap_up(ann, finish(session))
    with pytest.raises(Invalid, match="not one of the queue's codes"):
        finish_wrap_up(ann, finish(session, "lost"))
    [done] = finish_wrap_up(ann, finish(session, "escalated"))
    assert isinstance(done, WrapUpFinished) and (done.code, done.timed_out) == ("escalated", False)
    with pytest.raises(StateForbids):
        finish_wrap_up(evolve_agent(done, ann), finish(session, "escalated"))
    optional, other = ann_after(queue(wrap_up_seconds=90))
    assert finish_wrap_up(optional, finish(other))  # no codes: finished without one


def test_r11_a_required_code_needs_codes_and_a_wrap_up() -> None:
    for wrong in (
        queue(wrap_up_code_required=True, wrap_up_codes=["resolved"]),
        queue(wrap_up_seconds=60, wrap_up_code_required=True),
        queue(wrap_up_seconds=60, wrap_up_codes=["resolved", "resolved"]),
    ):
        with pytest.raises(Invalid):
            configure_queue(wrong, queue_id=QUEUE)
    assert configure_queue(queue(wrap_up_seconds=60), queue_id=QUEUE)
