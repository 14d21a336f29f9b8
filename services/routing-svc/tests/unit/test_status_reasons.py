"""R12 status reasons and R13 not responding, in the pure domain and the view, on a fake
clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventlog import NewEvent
from routing_svc.domain.queues import (
    change_agent_status,
    configure_status_reasons,
    set_not_responding,
)
from routing_svc.domain.state import AgentState, fold_agent
from routing_svc.view import RoutingView
from support_contracts import Envelope, Event
from support_contracts.refusals import Invalid
from support_contracts.routing import (
    AgentConfigured,
    AgentStatusChanged,
    ChangeAgentStatus,
    OfferDeclined,
    OfferExpired,
    OfferMade,
    OpeningHours,
    QueueConfigured,
    QueueDefinition,
    StatusReasonsConfigured,
    TaskEscalated,
    TaskQueued,
    TaskSource,
)
from support_contracts.vocabulary import AgentStatus, RoutingPolicy

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ALWAYS = [OpeningHours(weekday=d, opens=time(0), closes=time(23, 59, 59)) for d in range(7)]


def recorded(stream: str, events: list[tuple[float, Event]], start: int = 0) -> list[Envelope]:
    """Events as the log would hand them back, each ``seconds`` after T0."""
    cause = uuid4()
    return [
        NewEvent.from_event(
            e, occurred_at=T0 + timedelta(seconds=at), correlation_id=cause, causation_id=cause
        ).recorded(stream, start + n, start + n + 1)
        for n, (at, e) in enumerate(events)
    ]


def status(status: AgentStatus, reason: str | None = None, agent_id: str = "ann") -> Any:
    return ChangeAgentStatus.new(agent_id=agent_id, status=status, reason=reason)


def configured_ann() -> AgentState:
    return fold_agent(
        recorded("agent-ann", [(0, AgentConfigured(agent_id="ann", name="Ann", max_sessions=1))])
    )


def test_r12_away_and_offline_say_why_with_a_word_of_the_site_s_list() -> None:
    ann = configured_ann()
    lunch = change_agent_status(ann, status(AgentStatus.AWAY, "lunch"), ["lunch", "training"])
    assert lunch == [AgentStatusChanged(agent_id="ann", status=AgentStatus.AWAY, reason="lunch")]
    for wrong, code in [
        (status(AgentStatus.AWAY, "holiday"), "unknown_reason"),
        (status(AgentStatus.AVAILABLE, "lunch"), "reason_not_expected"),
        (status(AgentStatus.OFFLINE, "not_responding"), "reserved_reason"),
    ]:
        with pytest.raises(Invalid) as refused:
            change_agent_status(ann, wrong, ["lunch", "training"])
        assert refused.value.code == code
    with pytest.raises(Invalid, match="one of the site's: lunch, training"):
        change_agent_status(ann, status(AgentStatus.AWAY, "x"), ["lunch", "training"])
    # the same state with another reason is a change; with the same reason it is not
    away = fold_agent(recorded("agent-ann", [(1, lunch[0])], start=1), ann)
    assert change_agent_status(away, status(AgentStatus.AWAY, "lunch"), ["lunch"]) == []
    assert change_agent_status(away, status(AgentStatus.AWAY, "training"), ["training"])
    assert change_agent_status(away, status(AgentStatus.AWAY), ["lunch"])  # no reason now


def test_r12_the_site_s_reasons_are_each_named_once_and_not_routing_s_own() -> None:
    assert configure_status_reasons(["lunch", "training"]) == [
        StatusReasonsConfigured(reasons=["lunch", "training"])
    ]
    with pytest.raises(Invalid, match="once"):
        configure_status_reasons(["lunch", "lunch"])
    with pytest.raises(Invalid, match="routing only"):
        configure_status_reasons(["lunch", "not_responding"])


def test_r12_time_per_state_and_reason_is_kept_from_the_events() -> None:
    changes = [
        (0, AgentConfigured(agent_id="ann", name="Ann", max_sessions=1)),  # offline from 0 s
        (60, AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE)),
        (660, AgentStatusChanged(agent_id="ann", status=AgentStatus.AWAY, reason="lunch")),
        (2460, AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE)),
    ]
    ann = fold_agent(recorded("agent-ann", changes))
    assert ann.time_in_state(T0 + timedelta(seconds=2560)) == {
        "offline": 60.0,
        "available": 600.0 + 100.0,  # and the 100 s since it came back
        "away": 1800.0,
        "away:lunch": 1800.0,
    }


def test_r13_not_responding_sets_away_only_an_agent_still_available() -> None:
    ann = configured_ann()
    assert set_not_responding(ann) == []  # offline: nothing to change
    available = fold_agent(
        recorded(
            "agent-ann", [(1, AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE))], 1
        ),
        ann,
    )
    assert set_not_responding(available) == [
        AgentStatusChanged(agent_id="ann", status=AgentStatus.AWAY, reason="not_responding")
    ]


class Fold:
    """Routing's view fed events as the log orders them."""

    def __init__(self) -> None:
        self.view, self.position = RoutingView(), 0

    def apply(self, stream: str, event: Event, at: float = 0) -> None:
        self.position += 1
        cause = uuid4()
        envelope = NewEvent.from_event(
            event, occurred_at=T0 + timedelta(seconds=at), correlation_id=cause,
            causation_id=cause,
        ).recorded(stream, 1, self.position)  # fmt: skip
        self.view.apply(envelope)

    def queue(
        self, max_missed: int | None, policy: RoutingPolicy = RoutingPolicy.MOST_IDLE
    ) -> UUID:
        queue_id = uuid4()
        definition = QueueDefinition(
            name="Printers", agent_ids=["ann"], policy=policy,
            time_zone="Europe/Prague", hours=ALWAYS, escalation_seconds=600,
            offer_timeout_seconds=30, max_missed_offers=max_missed,
        )  # fmt: skip
        self.apply(f"queue-{queue_id}", QueueConfigured(queue_id=queue_id, definition=definition))
        return queue_id

    def offer(
        self, queue_id: UUID | None, answer: type[Event], at: float, *, escalated: bool = False
    ) -> None:
        """A session queued (and escalated) and offered to ann, then answered (or left to
        expire)."""
        session, task, offer = uuid4(), uuid4(), uuid4()
        stream = f"routing-{session}"
        source = TaskSource.HAND_OFF
        if queue_id is None:
            self.apply(stream, TaskQueued(task_id=task, session_id=session, source=source,
                                          agent_ids=["ann"]), at)  # fmt: skip
        else:
            self.apply(stream, TaskQueued(task_id=task, session_id=session, source=source,
                                          queue_id=queue_id), at)  # fmt: skip
        if escalated:
            self.apply(stream, TaskEscalated(task_id=task, session_id=session), at)
        ids = {"offer_id": offer, "task_id": task, "session_id": session, "agent_id": "ann"}
        self.apply(stream, OfferMade(**ids, expires_at=T0 + timedelta(seconds=at + 30)), at)
        self.apply(stream, answer(**ids), at + 31)


def test_r13_offers_of_a_queue_let_expire_in_a_row_make_an_agent_not_responding() -> None:
    fold = Fold()
    fold.apply("agent-ann", AgentConfigured(agent_id="ann", name="Ann", max_sessions=1))
    fold.apply("agent-ann", AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE))
    strict, lenient = fold.queue(max_missed=2), fold.queue(max_missed=None)
    fold.offer(strict, OfferExpired, at=10)
    fold.offer(strict, OfferDeclined, at=100)  # an answer: the count starts again
    fold.offer(strict, OfferExpired, at=200)
    fold.offer(None, OfferExpired, at=300)  # a named hand-off's offer does not count
    everybody = fold.queue(max_missed=2, policy=RoutingPolicy.EVERYBODY)
    fold.offer(everybody, OfferExpired, at=350)  # nor one offered to all at once,
    fold.offer(strict, OfferExpired, at=370, escalated=True)  # as an escalated session is
    assert fold.view.take_not_responding() == []
    assert fold.view.agents["ann"].eligible
    fold.offer(lenient, OfferExpired, at=400)  # a queue without a limit: no limit
    fold.offer(strict, OfferExpired, at=500)
    fold.offer(strict, OfferExpired, at=600)
    ann = fold.view.agents["ann"]
    assert not ann.eligible  # no offer is made to it before the log says it is away
    assert [a.id for a in fold.view.take_not_responding()] == ["ann"]
    assert fold.view.take_not_responding() == []  # taken once
    fold.view.everything_dirty()  # a router that takes the lead finds it again
    assert [a.id for a in fold.view.take_not_responding()] == ["ann"]
    fold.apply("agent-ann", AgentStatusChanged(
        agent_id="ann", status=AgentStatus.AWAY, reason="not_responding"), 700)  # fmt: skip
    fold.apply("agent-ann", AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE), 800)
    assert fold.view.agents["ann"].eligible and fold.view.agents["ann"].missed == 0  # back
