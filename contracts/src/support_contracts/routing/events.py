"""The events routing-svc records (R1-R18, S9)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from support_contracts.base import Event
from support_contracts.routing.definitions import QueueDefinition, _absent
from support_contracts.vocabulary import (
    AgentStatus,
    DisplayName,
    HandOffMessage,
    Priority,
    Proficiency,
    SkillName,
    StatusReason,
    UserId,
    WrapUpCode,
)


class RoutingEvent(Event):
    context: ClassVar[str] = "routing"


class TaskSource(StrEnum):
    HAND_OFF = "hand_off"
    ENTRY_FORM = "entry_form"
    REQUEUE = "requeue"  # an admin put the waiting session in a queue again


class WithdrawReason(StrEnum):
    ACCEPTED_BY_ANOTHER = "accepted_by_another"
    SESSION_ENDED = "session_ended"
    AGENT_UNAVAILABLE = "agent_unavailable"
    HANDED_AGAIN = "handed_again"


class QueueConfigured(RoutingEvent):
    queue_id: UUID
    definition: QueueDefinition


class AgentConfigured(RoutingEvent):
    agent_id: UserId
    name: DisplayName
    max_sessions: int = Field(ge=1)
    skills: dict[SkillName, Proficiency] | None = Field(default=None, exclude_if=_absent)  # R9


class AgentStatusChanged(RoutingEvent):
    """R3, R12: ``reason``, for away and offline, is a word of the site's list, or
    ``not_responding`` when routing set the agent away (R13)."""

    agent_id: UserId
    status: AgentStatus
    reason: StatusReason | None = Field(default=None, exclude_if=_absent)


class StatusReasonsConfigured(RoutingEvent):
    """R12: the site's reasons for away and offline (stream ``status-reasons``)."""

    reasons: list[StatusReason]


class TaskQueued(RoutingEvent):
    """A session waits for an agent: handed to a queue or to named agents, or asked for through
    a queue's entry form (then ``request_id`` is the form's)."""

    task_id: UUID
    session_id: UUID
    source: TaskSource
    queue_id: UUID | None = None
    agent_ids: list[UserId] = Field(default_factory=list)
    message: HandOffMessage | None = None
    request_id: UUID | None = None
    priority: Priority | None = Field(default=None, exclude_if=_absent)  # R10: None is 5
    preferred_agent: UserId | None = Field(default=None, exclude_if=_absent)  # R18
    # R9: needed besides the queue's own (the hand-off's or the entry form's)
    skills: list[SkillName] | None = Field(default=None, exclude_if=_absent)


class OverflowReason(StrEnum):
    WAITED = "waited"
    ESTIMATED_WAIT = "estimated_wait"


class TaskOverflowed(RoutingEvent):
    """R14: the session is offered in its queue's overflow queue too, from now on."""

    task_id: UUID
    session_id: UUID
    queue_id: UUID  # the overflow queue
    reason: OverflowReason


class TaskEscalated(RoutingEvent):
    task_id: UUID
    session_id: UUID


class OfferMade(RoutingEvent):
    offer_id: UUID
    task_id: UUID
    session_id: UUID
    agent_id: UserId
    expires_at: datetime
    # R17: the supervisor who offered the session to this agent (routing's offers have none)
    offered_by: UserId | None = Field(default=None, exclude_if=_absent)


class OfferAccepted(RoutingEvent):
    """The agent took the session. ``assigned_by``: an admin who assigned it to the agent (an
    offer made and accepted at once on the agent's behalf). When the agent accepted, the field
    is left out, not null: the event is then what it was before the field, and a consumer
    still running that version reads it (a rolling upgrade; upgrade the gateway last)."""

    offer_id: UUID
    task_id: UUID
    session_id: UUID
    agent_id: UserId
    agent_name: DisplayName
    assigned_by: UserId | None = Field(default=None, exclude_if=_absent)


class OfferDeclined(RoutingEvent):
    offer_id: UUID
    task_id: UUID
    session_id: UUID
    agent_id: UserId


class OfferExpired(RoutingEvent):
    offer_id: UUID
    task_id: UUID
    session_id: UUID
    agent_id: UserId


class OfferWithdrawn(RoutingEvent):
    offer_id: UUID
    task_id: UUID
    session_id: UUID
    agent_id: UserId
    reason: WithdrawReason


class AgentSessionStarted(RoutingEvent):
    """In the agent's stream: it took this session (its load grows; R3, R6)."""

    agent_id: UserId
    session_id: UUID
    task_id: UUID


class AgentSessionFinished(RoutingEvent):
    """In the agent's stream: the session ended or moved on; the slot is free (R7), unless a
    wrap-up starts with it (R11)."""

    agent_id: UserId
    session_id: UUID


class WrapUpStarted(RoutingEvent):
    """R11, in the agent's stream: the session of a queue with a wrap-up ended; its slot stays
    taken until ``until`` or until the agent finishes, with the queue's codes as they were."""

    agent_id: UserId
    session_id: UUID
    queue_id: UUID
    until: datetime
    codes: list[WrapUpCode] = Field(default_factory=list)
    code_required: bool = False


class WrapUpFinished(RoutingEvent):
    """R11: the agent finished its wrap-up (``code``, if given), or its time ran out."""

    agent_id: UserId
    session_id: UUID
    code: WrapUpCode | None = None
    timed_out: bool = False


class TaskWithdrawn(RoutingEvent):
    task_id: UUID
    session_id: UUID
    reason: WithdrawReason


class QueueIntervalEnded(RoutingEvent):
    """R16: a queue's figures for a 15-minute interval, published once it has ended (stream
    ``queue-stats-<queue id>-<start>``, for analytics). ``offered``: sessions queued in it;
    ``answered``: taken by an agent in it (``answered_in_time`` within the service level's
    seconds of being queued); ``abandoned``: ended while waiting in it; ``service_level``:
    answered in time over answered and abandoned (None without either); the averages over the
    sessions answered (wait) and finished (handling) in it."""

    queue_id: UUID
    starts: datetime
    ends: datetime
    offered: int = Field(ge=0)
    answered: int = Field(ge=0)
    answered_in_time: int = Field(ge=0)
    abandoned: int = Field(ge=0)
    service_level_seconds: int = Field(ge=1)
    service_level: float | None
    average_wait_seconds: float | None
    average_handle_seconds: float | None


class TaskAbandoned(RoutingEvent):
    """R15: the session ended while it waited in the queue (its customer left, or it was
    ended): recorded beside its ``TaskWithdrawn``, with how long it waited."""

    task_id: UUID
    session_id: UUID
    queue_id: UUID
    waited_seconds: float = Field(ge=0)


ROUTING_EVENTS: tuple[type[RoutingEvent], ...] = (
    QueueConfigured,
    AgentConfigured,
    AgentStatusChanged,
    StatusReasonsConfigured,
    TaskQueued,
    TaskEscalated,
    TaskOverflowed,
    OfferMade,
    OfferAccepted,
    OfferDeclined,
    OfferExpired,
    OfferWithdrawn,
    TaskWithdrawn,
    TaskAbandoned,
    QueueIntervalEnded,
    AgentSessionStarted,
    AgentSessionFinished,
    WrapUpStarted,
    WrapUpFinished,
)
