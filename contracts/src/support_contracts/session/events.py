"""What session-svc records of a session (S1-S12), of its csrs' ledgers, its numbers and its
settings."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from support_contracts.base import Event, Strict, fields_of
from support_contracts.session.settings import CsrSettings, SiteSettings
from support_contracts.vocabulary import (
    ActivityKind,
    DisplayName,
    EmailAddress,
    HandOffMessage,
    ParticipantId,
    Priority,
    Role,
    SessionNumber,
    SkillName,
    UserId,
)


class SessionEvent(Event):
    context: ClassVar[str] = "session"


class EndReason(StrEnum):
    ENDED_BY_CONTROLLER = "ended_by_controller"
    CONTROLLER_LEFT = "controller_left"
    CONSOLE_CLOSED = "console_closed"
    WITHDRAWN = "withdrawn"
    ENDED_BY_ADMIN = "ended_by_admin"  # a stranded or stuck session (issue 14.2)


class ActivityEndReason(StrEnum):
    STOPPED = "stopped"
    CONTROL_TRANSFERRED = "control_transferred"
    ACTIVE_CUSTOMER_CHANGED = "active_customer_changed"
    HANDED_OFF = "handed_off"
    PARTICIPANT_LEFT = "participant_left"
    SESSION_ENDED = "session_ended"


class LeaveReason(StrEnum):
    LEFT = "left"
    HANDED_OFF = "handed_off"


class SessionStarted(SessionEvent):
    session_id: UUID
    session_number: SessionNumber
    csr_id: UserId
    csr_name: DisplayName
    email_invite: bool


class CustomerRequest(Strict):
    """What a customer asked for through a queue's entry form (R8), carried as it is from the
    command that opens the session to the event that records it."""

    queue_id: UUID
    request_id: UUID
    customer_name: DisplayName
    customer_email: EmailAddress
    problem: str = Field(max_length=4000)
    preferred_agent: UserId | None = Field(default=None, exclude_if=lambda v: v is None)  # R18
    skills: list[SkillName] | None = Field(default=None, exclude_if=lambda v: v is None)  # R9

    def request(self) -> dict[str, Any]:
        return fields_of(self, CustomerRequest)


class QueueHandOff(Strict):
    """Where and how a session is handed to a queue (S9), carried as it is from the command
    to the event that records it."""

    queue_id: UUID
    message: HandOffMessage | None = None
    # R10: 1 (first) to 9; left out, the queue's usual 5
    priority: Priority | None = Field(default=None, exclude_if=lambda p: p is None)
    # R18: offered first, for the queue's preferred_agent_seconds (say, the customer's last)
    preferred_agent: UserId | None = Field(default=None, exclude_if=lambda v: v is None)
    skills: list[SkillName] | None = Field(default=None, exclude_if=lambda v: v is None)  # R9

    def hand_off(self) -> dict[str, Any]:
        return fields_of(self, QueueHandOff)


class SessionRequested(SessionEvent, CustomerRequest):
    """A customer asked for help through a queue's entry form (R8): no controller yet."""

    session_id: UUID
    session_number: SessionNumber
    customer_id: ParticipantId


class CustomerJoined(SessionEvent):
    participant_id: ParticipantId
    name: DisplayName
    via: Literal["invitation", "session_number", "entry_form"]
    invitation_id: UUID | None = None


class AssistantJoined(SessionEvent):
    csr_id: UserId
    name: DisplayName
    via: Literal["invitation", "session_number", "supervisor"]  # a supervisor taking over (R17)
    invitation_id: UUID | None = None


class ActiveCustomerSelected(SessionEvent):
    participant_id: ParticipantId


class ControlTransferred(SessionEvent):
    from_csr: UserId
    to_csr: UserId
    voice_continues: bool
    # R17: set when a supervisor took control (``to_csr``) rather than was given it
    taken_over_by: UserId | None = Field(default=None, exclude_if=lambda v: v is None)


class ActivityStarted(SessionEvent):
    activity_id: UUID
    kind: ActivityKind
    started_by: ParticipantId


class ActivityEnded(SessionEvent):
    activity_id: UUID
    kind: ActivityKind
    reason: ActivityEndReason


class ParticipantLeft(SessionEvent):
    participant_id: ParticipantId
    role: Role
    reason: LeaveReason


class HandedToQueue(SessionEvent, QueueHandOff):
    from_csr: UserId


class HandedToAgents(SessionEvent):
    from_csr: UserId
    agent_ids: list[UserId] = Field(min_length=1)
    message: HandOffMessage | None = None


class SessionRequeued(SessionEvent):
    """An admin put a waiting session (handed off or requested, no agent yet) in a queue again:
    routing starts a new task there (issue 14.2)."""

    queue_id: UUID
    requeued_by: UserId


class AgentAssigned(SessionEvent):
    agent_id: UserId
    agent_name: DisplayName
    offer_id: UUID


class SessionEnded(SessionEvent):
    reason: EndReason
    ended_by: ParticipantId | None = None


class ConsoleSeen(SessionEvent):
    """The controller's console was alive (S4). Recorded at most every third of the grace
    period, not on every heartbeat."""

    csr_id: UserId


class ControlGained(SessionEvent):
    """In the csr's own stream ``csr-<id>``: the csr now controls this session (S2)."""

    session_id: UUID


class ControlReleased(SessionEvent):
    """In the csr's own stream: the csr no longer controls this session (S2)."""

    session_id: UUID


class NumberReserved(SessionEvent):
    """In the number's own stream ``number-<digits>``: this live session has it (S1)."""

    session_id: UUID


class NumberReleased(SessionEvent):
    """In the number's own stream: the session ended; the number may be used again."""

    session_id: UUID


class SiteSettingsChanged(SessionEvent):
    """The whole site settings after an admin's change (admin stream ``site-settings``)."""

    settings: SiteSettings


class CsrSettingsChanged(SessionEvent):
    """A csr's own settings after a change (stream ``csr-<id>``)."""

    csr_id: UserId
    settings: CsrSettings


# what a session's own stream ``session-<id>`` holds: what its live updates show
SESSION_STREAM_EVENTS: tuple[type[SessionEvent], ...] = (
    SessionStarted,
    SessionRequested,
    CustomerJoined,
    AssistantJoined,
    ActiveCustomerSelected,
    ControlTransferred,
    ActivityStarted,
    ActivityEnded,
    ParticipantLeft,
    HandedToQueue,
    HandedToAgents,
    SessionRequeued,
    AgentAssigned,
    SessionEnded,
    ConsoleSeen,
)
SESSION_EVENTS: tuple[type[SessionEvent], ...] = (
    *SESSION_STREAM_EVENTS,
    ControlGained,  # the csrs' ledgers, the numbers, the settings: streams of their own
    ControlReleased,
    NumberReserved,
    NumberReleased,
    SiteSettingsChanged,
    CsrSettingsChanged,
)
