"""Queues and agents as an admin sets them (R1, R3), an agent's status and its reason (R3,
R12, R13), and whether a queue is open now (R8). Pure: time comes in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing_svc.domain.state import AgentState
from routing_svc.domain.wrap_ups import check_wrap_up_settings
from support_contracts import Event
from support_contracts.refusals import Invalid, NotFound, StateForbids
from support_contracts.routing import (
    DEFAULT_STATUS_REASONS,
    AgentConfigured,
    AgentStatusChanged,
    ChangeAgentStatus,
    ConfigureAgent,
    QueueConfigured,
    QueueDefinition,
    StatusReasonsConfigured,
)
from support_contracts.vocabulary import NOT_RESPONDING, AgentStatus


def configure_queue(definition: QueueDefinition, *, queue_id: UUID) -> list[Event]:
    """R1: a queue is its name, member agents, policy, hours in a time zone, thresholds."""
    try:
        ZoneInfo(definition.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(
            "unknown_time_zone", f"{definition.time_zone!r} is not a time zone, e.g. Europe/Prague"
        ) from None
    for window in definition.hours:
        if window.opens >= window.closes:
            raise Invalid(
                "empty_hours",
                f"on weekday {window.weekday} the queue closes "
                f"({window.closes}) before it opens ({window.opens})",
            )
    if len(set(definition.agent_ids)) != len(definition.agent_ids):
        raise Invalid("agent_twice", "name each member agent once")
    thresholds = (definition.overflow_after_seconds,
                  definition.overflow_when_estimated_wait_over_seconds)  # fmt: skip
    if definition.overflow_queue_id == queue_id:
        raise Invalid("overflow_to_itself", "a queue cannot overflow into itself")
    if (definition.overflow_queue_id is None) != (thresholds == (None, None)):
        raise Invalid(
            "overflow_half_set",
            "an overflow queue goes with a threshold: overflow_after_seconds or"
            " overflow_when_estimated_wait_over_seconds",
        )
    days = [e.day for e in definition.exceptions or ()]
    if len(set(days)) != len(days):
        raise Invalid("exception_twice", "give each date's exception once")
    check_wrap_up_settings(definition)
    return [QueueConfigured(queue_id=queue_id, definition=definition)]


def windows(definition: QueueDefinition, day: date) -> list[tuple[time, time]]:
    """The queue's opening windows on ``day`` (its own calendar): the date's exception if it
    has one (R18: closed, or special hours), else the weekday's hours (R8)."""
    for exception in definition.exceptions or ():
        if exception.day == day:
            if exception.opens is None or exception.closes is None:
                return []
            return [(exception.opens, exception.closes)]
    return sorted((w.opens, w.closes) for w in definition.hours if w.weekday == day.weekday())


def is_open(definition: QueueDefinition, at: datetime) -> bool:
    """R8, R18: open when ``at``, in the queue's own time zone, falls in one of that day's
    windows."""
    local = at.astimezone(ZoneInfo(definition.time_zone))
    now = local.time().replace(tzinfo=None)
    return any(opens <= now < closes for opens, closes in windows(definition, local.date()))


LOOK_AHEAD_DAYS = 400  # a queue closed for longer "has no opening hours"


def next_opening(definition: QueueDefinition, after: datetime) -> datetime | None:
    """R8, R18: when the queue opens next after ``after`` (in its own time zone); None if not
    within ``LOOK_AHEAD_DAYS``."""
    zone = ZoneInfo(definition.time_zone)
    local = after.astimezone(zone)
    for days in range(LOOK_AHEAD_DAYS):
        day = (local + timedelta(days=days)).date()
        for opens, _ in windows(definition, day):
            at = datetime.combine(day, opens, zone)
            if at > local:
                return at
    return None


def closed_refusal(definition: QueueDefinition, now: datetime) -> StateForbids:
    """What the entry form answers outside the queue's hours (R8)."""
    opens = next_opening(definition, now)
    shown = "%A %H:%M" if opens and opens - now < timedelta(days=6) else "%A %d %B %Y %H:%M"
    when = (
        f"it opens {opens.strftime(shown)} ({definition.time_zone})"
        if opens
        else "it has no opening hours"
    )
    return StateForbids("queue_closed", f"the queue {definition.name} is closed now; {when}")


def check_room(definition: QueueDefinition, waiting: int, frees_in: float | None) -> None:
    """R15: a queue with as many sessions waiting as it takes refuses more (409 ``queue_full``),
    saying about when a place frees (unknown until a session of it has been handled)."""
    if definition.max_waiting is None or waiting < definition.max_waiting:
        return
    when = f"a place frees in about {round(frees_in)} s" if frees_in is not None else "try later"
    raise StateForbids(
        "queue_full",
        f"the queue {definition.name} is full ({waiting} waiting, the most it takes); {when}",
    )


def configure_agent(cmd: ConfigureAgent) -> list[Event]:
    """R3: an agent's name and how many sessions it may hold at once; R9: its skills."""
    configured = AgentConfigured(
        agent_id=cmd.agent_id, name=cmd.name, max_sessions=cmd.max_sessions, skills=cmd.skills
    )
    return [configured]


def change_agent_status(
    agent: AgentState, cmd: ChangeAgentStatus, reasons: Sequence[str] = DEFAULT_STATUS_REASONS
) -> list[Event]:
    """R3: available, away or offline; away and offline stop new offers at once. R12: away
    and offline may say why, with a word of the site's ``reasons``."""
    if agent.id is None:
        raise NotFound("unknown_agent", f"no agent {cmd.agent_id} is configured")
    if cmd.reason is not None:
        if cmd.status is AgentStatus.AVAILABLE:
            raise Invalid("reason_not_expected", "an available agent gives no reason")
        if cmd.reason == NOT_RESPONDING:
            raise Invalid("reserved_reason", f"{NOT_RESPONDING} is given by routing only (R13)")
        if cmd.reason not in reasons:
            raise Invalid(
                "unknown_reason", f"{cmd.reason!r} is not one of the site's: {', '.join(reasons)}"
            )
    if agent.status is cmd.status and agent.reason == cmd.reason:
        return []
    return [AgentStatusChanged(agent_id=cmd.agent_id, status=cmd.status, reason=cmd.reason)]


def set_not_responding(agent: AgentState) -> list[Event]:
    """R13: an available agent who let too many offers in a row expire is set away, not
    responding, and gets no offers until available again (nothing if it is not available now:
    it went away or took a session meanwhile is not a reason to change what it chose)."""
    if agent.id is None or agent.status is not AgentStatus.AVAILABLE:
        return []
    return [AgentStatusChanged(agent_id=agent.id, status=AgentStatus.AWAY, reason=NOT_RESPONDING)]


def configure_status_reasons(reasons: Sequence[str]) -> list[Event]:
    """R12: the site's reasons for away and offline, each once; ``not_responding`` is
    routing's own (R13)."""
    if NOT_RESPONDING in reasons:
        raise Invalid("reserved_reason", f"{NOT_RESPONDING} is given by routing only (R13)")
    if len(set(reasons)) != len(reasons):
        raise Invalid("reason_twice", "name each reason once")
    return [StatusReasonsConfigured(reasons=list(reasons))]
