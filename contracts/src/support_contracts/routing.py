"""WebACD routing (rules R1-R8, S9): events recorded by routing-svc and the commands it takes."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field, StrictBool, StrictInt, model_validator

from support_contracts.base import Command, Event, Strict
from support_contracts.vocabulary import (
    AgentStatus,
    DisplayName,
    EmailAddress,
    HandOffMessage,
    Priority,
    RoutingPolicy,
    StatusReason,
    UserId,
    WrapUpCode,
)

DEFAULT_STATUS_REASONS = ("lunch", "break", "training", "meeting")
"""R12: the site's reasons for away and offline until an admin sets others."""


def _absent(value: object) -> bool:
    """A field left out of the JSON when not set: an event or definition without it is then
    what it was before the field, so a consumer still running that version reads it (a
    rolling upgrade)."""
    return value is None


class RoutingEvent(Event):
    context: ClassVar[str] = "routing"


class RoutingCommand(Command):
    context: ClassVar[str] = "routing"


class OpeningHours(Strict):
    """One weekday's window in the queue's time zone; 0 is Monday."""

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time


class HoursException(Strict):
    """R18: a date on which the queue keeps other hours, in its time zone: closed all day (no
    ``opens`` and ``closes``), or open from ``opens`` to ``closes`` only."""

    day: date
    opens: time | None = None
    closes: time | None = None

    @model_validator(mode="after")
    def _whole_window(self) -> HoursException:
        if (self.opens is None) != (self.closes is None):
            raise ValueError("give both opens and closes for special hours, or neither: closed")
        if self.opens is not None and self.closes is not None and self.opens >= self.closes:
            raise ValueError("closes must be after opens")
        return self


class QueueDefinition(Strict):
    """What an admin sets for a queue (R1, R2, R4)."""

    name: DisplayName
    agent_ids: list[UserId]
    policy: RoutingPolicy
    time_zone: str = Field(min_length=1, max_length=64)
    hours: list[OpeningHours]
    escalation_seconds: int = Field(ge=1)
    offer_timeout_seconds: int = Field(ge=1)
    # R13: an agent who lets this many offers in a row expire is set away, not responding
    max_missed_offers: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R11: after a session of this queue ends, its agent's slot stays taken this long, or
    # until the agent finishes the wrap-up (with one of the codes, if required)
    wrap_up_seconds: StrictInt | None = Field(default=None, ge=1, le=3600, exclude_if=_absent)
    wrap_up_codes: list[WrapUpCode] | None = Field(default=None, max_length=50, exclude_if=_absent)
    wrap_up_code_required: StrictBool | None = Field(default=None, exclude_if=_absent)
    # R10: a waiting session's priority rises one step every this many seconds
    priority_aging_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R15: at most this many sessions wait; the entry form and hand-offs are refused beyond
    max_waiting: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R16: a session answered within this many seconds of its queueing meets the service level
    service_level_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R14: past a wait of overflow_after_seconds, or with an estimated wait over the other
    # threshold, a session is offered in the overflow queue too, keeping its age and priority
    overflow_queue_id: UUID | None = Field(default=None, exclude_if=_absent)
    overflow_after_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    overflow_when_estimated_wait_over_seconds: StrictInt | None = Field(
        default=None, ge=1, exclude_if=_absent
    )
    # R18: a session naming a preferred agent is offered to that agent only, this long
    preferred_agent_seconds: StrictInt | None = Field(default=None, ge=1, exclude_if=_absent)
    # R18: dated exceptions to ``hours`` (closed days, special hours), one a date
    exceptions: list[HoursException] | None = Field(
        default=None, max_length=400, exclude_if=_absent
    )


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


class ConfigureQueue(RoutingCommand):
    """A new queue (no ``queue_id``) or a change to one."""

    queue_id: UUID | None = None
    definition: QueueDefinition


class ConfigureAgent(RoutingCommand):
    agent_id: UserId
    name: DisplayName
    max_sessions: int = Field(ge=1)


class ChangeAgentStatus(RoutingCommand):
    agent_id: UserId
    status: AgentStatus
    reason: StatusReason | None = None  # R12: for away and offline, from the site's list


class FinishWrapUp(RoutingCommand):
    """R11: an agent ends the wrap-up of a session, with a code of the queue's list."""

    agent_id: UserId
    session_id: UUID
    code: WrapUpCode | None = None


class ConfigureStatusReasons(RoutingCommand):
    """R12: an admin sets the site's reasons for away and offline."""

    reasons: list[StatusReason] = Field(min_length=1, max_length=50)


class GetStatusReasons(RoutingCommand):
    """Query (R12): the site's reasons for away and offline."""


class AcceptOffer(RoutingCommand):
    session_id: UUID
    offer_id: UUID
    agent_id: UserId


class DeclineOffer(RoutingCommand):
    session_id: UUID
    offer_id: UUID
    agent_id: UserId


class AssignTask(RoutingCommand):
    """An admin assigns a waiting session to an agent who is available and has a free slot
    (issue 14.2); the gateway checks the role."""

    session_id: UUID
    agent_id: UserId


class SubmitEntryForm(RoutingCommand):
    """R8: a customer asks for help; a session is opened waiting in the queue, or the answer
    says the queue is closed and when it opens."""

    queue_id: UUID
    name: DisplayName
    email: EmailAddress
    problem: str = Field(min_length=1, max_length=4000)
    preferred_agent: UserId | None = None  # R18: say, the agent who helped last time


class GetQueue(RoutingCommand):
    """Query: a queue's definition, whether it is open, and how many sessions wait in it."""

    queue_id: UUID


class CheckRoom(RoutingCommand):
    """Query (R15): the queue as ``GetQueue`` answers it, or 409 ``queue_full`` when it has as
    many sessions waiting as it takes (a hand-off asks before it is made)."""

    queue_id: UUID


class GetQueueStats(RoutingCommand):
    """Query (R16): one queue's statistics now and for the 15-minute interval under way, or
    every queue's (no ``queue_id``)."""

    queue_id: UUID | None = None


class GetAgent(RoutingCommand):
    """Query: an agent's status, capacity, sessions and open offers (``/v1/agents/me/offers``)."""

    agent_id: UserId


class GetWaitingPosition(RoutingCommand):
    """Query (R5): where a waiting session stands in its queue and the estimated wait; by the
    session or by the entry form's request."""

    session_id: UUID | None = None
    request_id: UUID | None = None

    @model_validator(mode="after")
    def _one_of(self) -> GetWaitingPosition:
        if (self.session_id is None) == (self.request_id is None):
            raise ValueError("give exactly one of session_id and request_id")
        return self


ROUTING_COMMANDS: tuple[type[RoutingCommand], ...] = (
    ConfigureQueue,
    ConfigureAgent,
    ChangeAgentStatus,
    FinishWrapUp,
    ConfigureStatusReasons,
    GetStatusReasons,
    AcceptOffer,
    DeclineOffer,
    AssignTask,
    SubmitEntryForm,
    GetQueue,
    CheckRoom,
    GetQueueStats,
    GetAgent,
    GetWaitingPosition,
)
