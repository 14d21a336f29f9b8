"""R1, R3, R8: configuring queues and agents, and opening hours in the queue's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import pytest

from routing_svc.domain.queues import (
    change_agent_status,
    check_room,
    closed_refusal,
    configure_queue,
    is_open,
)
from routing_svc.domain.state import AgentState, evolve_agent
from support_contracts.refusals import Invalid, NotFound, StateForbids
from support_contracts.routing import (
    AgentConfigured,
    AgentStatusChanged,
    ChangeAgentStatus,
    HoursException,
    OpeningHours,
    QueueDefinition,
)
from support_contracts.vocabulary import AgentStatus, RoutingPolicy

WEEKDAYS_9_TO_5 = [OpeningHours(weekday=d, opens=time(9), closes=time(17)) for d in range(5)]


def prague(**changes: object) -> QueueDefinition:
    base = QueueDefinition(
        name="Printers",
        agent_ids=["ann", "ben"],
        policy=RoutingPolicy.MOST_IDLE,
        time_zone="Europe/Prague",
        hours=WEEKDAYS_9_TO_5,
        escalation_seconds=120,
        offer_timeout_seconds=30,
    )
    return base.model_copy(update=changes)


def test_r1_a_queue_is_configured_with_its_definition() -> None:
    queue_id = uuid4()
    [event] = configure_queue(prague(), queue_id=queue_id)
    assert event.queue_id == queue_id and event.definition.policy is RoutingPolicy.MOST_IDLE  # type: ignore[attr-defined]


def test_r1_refusals_name_what_to_fix() -> None:
    with pytest.raises(Invalid, match="not a time zone"):
        configure_queue(prague(time_zone="Mars/Olympus"), queue_id=uuid4())
    with pytest.raises(Invalid, match=r"closes .* before it opens"):
        configure_queue(
            prague(hours=[OpeningHours(weekday=0, opens=time(17), closes=time(9))]),
            queue_id=uuid4(),
        )
    with pytest.raises(Invalid, match="once"):
        configure_queue(prague(agent_ids=["ann", "ann"]), queue_id=uuid4())


def test_r8_open_is_decided_in_the_queues_own_time_zone() -> None:
    queue = prague()
    # Tuesday 24 November 2026; Prague is UTC+1 in winter
    assert is_open(queue, datetime(2026, 11, 24, 8, 30, tzinfo=UTC))  # 09:30 in Prague
    assert not is_open(queue, datetime(2026, 11, 24, 7, 30, tzinfo=UTC))  # 08:30 in Prague
    assert not is_open(queue, datetime(2026, 11, 24, 16, 0, tzinfo=UTC))  # 17:00: just closed
    assert not is_open(queue, datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # Saturday
    summer = datetime(2026, 7, 7, 7, 30, tzinfo=UTC)  # 09:30 in Prague (UTC+2)
    assert is_open(queue, summer)


def test_r3_status_changes_only_for_a_configured_agent_and_only_when_it_changes() -> None:
    with pytest.raises(NotFound):
        change_agent_status(
            AgentState(),
            ChangeAgentStatus.new(
                agent_id="zed",
                status=AgentStatus.AVAILABLE,
            ),
        )
    agent = evolve_agent(AgentConfigured(agent_id="ann", name="Ann", max_sessions=2), AgentState())
    go = ChangeAgentStatus.new(agent_id="ann", status=AgentStatus.AVAILABLE)
    assert change_agent_status(agent, go) == [
        AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE)
    ]
    agent = evolve_agent(AgentStatusChanged(agent_id="ann", status=AgentStatus.AVAILABLE), agent)
    assert change_agent_status(agent, go) == []


def test_r15_a_queue_as_full_as_it_takes_refuses_more_and_says_when_a_place_frees() -> None:
    check_room(prague(), 500, None)  # no cap: always room
    capped = prague(max_waiting=3)
    check_room(capped, 2, None)
    with pytest.raises(StateForbids) as full:
        check_room(capped, 3, 42.4)
    assert (full.value.status, full.value.code) == (409, "queue_full")
    assert "full (3 waiting, the most it takes); a place frees in about 42 s" in str(full.value)
    with pytest.raises(StateForbids, match="try later"):
        check_room(capped, 4, None)  # nothing handled yet: no estimate


def test_r18_dated_exceptions_close_a_day_or_keep_special_hours() -> None:
    christmas, short_friday = date(2026, 12, 25), date(2026, 11, 27)
    queue = prague(
        exceptions=[
            HoursException(day=christmas),  # a Friday: closed all day
            HoursException(day=short_friday, opens=time(9), closes=time(12)),
        ]
    )
    assert configure_queue(queue, queue_id=uuid4())
    assert not is_open(queue, datetime(2026, 12, 25, 10, 0, tzinfo=UTC))  # 11:00 in Prague
    assert is_open(queue, datetime(2026, 12, 24, 10, 0, tzinfo=UTC))  # the day before: as usual
    assert is_open(queue, datetime(2026, 11, 27, 10, 0, tzinfo=UTC))  # 11:00: special hours
    assert not is_open(queue, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))  # 13:00: closed early
    closed = closed_refusal(queue, datetime(2026, 12, 25, 10, 0, tzinfo=UTC))
    assert "it opens Monday 09:00 (Europe/Prague)" in str(closed)  # the weekend, then Monday
    with pytest.raises(Invalid, match="once"):
        configure_queue(prague(exceptions=[HoursException(day=christmas)] * 2), queue_id=uuid4())
    with pytest.raises(ValueError, match="both opens and closes"):
        HoursException(day=christmas, opens=time(9))


def test_r18_a_queue_closed_for_weeks_says_the_date_it_opens() -> None:
    holiday = [HoursException(day=date(2026, 8, 1) + timedelta(days=n)) for n in range(21)]
    queue = prague(exceptions=holiday)
    refused = closed_refusal(queue, datetime(2026, 8, 3, 8, 0, tzinfo=UTC))  # a closed Monday
    assert "it opens Monday 24 August 2026 09:00 (Europe/Prague)" in str(refused)
