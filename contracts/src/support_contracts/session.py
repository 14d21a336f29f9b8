"""The support session (rules S1-S12): events recorded by session-svc and the commands it takes.

Site and csr settings live here too: session-svc records them in its admin stream and the
session rules read them (S2, S4, S5, S8, S9).
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field, StrictBool, StrictInt, model_validator

from support_contracts.base import Command, Event, Strict
from support_contracts.vocabulary import (
    ActivityKind,
    DisplayName,
    EmailAddress,
    HandOffMessage,
    ParticipantId,
    Role,
    SessionMode,
    SessionNumber,
    UserId,
)


class SiteSettings(Strict):
    """The site's limits (S2, S4, S5, I2), set by an admin."""

    multi_session_allowed: StrictBool  # JSON's true and false only, as the document says
    max_sessions_per_csr: StrictInt = Field(ge=1)
    multiple_customers_allowed: StrictBool
    max_customers_per_session: StrictInt = Field(ge=1)
    console_grace_seconds: StrictInt = Field(ge=1)
    invitation_ttl_seconds: StrictInt = Field(ge=60)


class CsrSettings(Strict):
    """A csr's own settings (S2, S8, S9)."""

    session_mode: SessionMode
    is_webacd_agent: StrictBool  # true or false, never 0 or "yes"
    voice_supported: StrictBool


class SessionEvent(Event):
    context: ClassVar[str] = "session"


class SessionCommand(Command):
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


# --- events -------------------------------------------------------------------------------------


class SessionStarted(SessionEvent):
    session_id: UUID
    session_number: SessionNumber
    csr_id: UserId
    csr_name: DisplayName
    email_invite: bool


class SessionRequested(SessionEvent):
    """A customer asked for help through a queue's entry form (R8): no controller yet."""

    session_id: UUID
    session_number: SessionNumber
    queue_id: UUID
    request_id: UUID
    customer_id: ParticipantId
    customer_name: DisplayName
    customer_email: EmailAddress
    problem: str = Field(max_length=4000)


class CustomerJoined(SessionEvent):
    participant_id: ParticipantId
    name: DisplayName
    via: Literal["invitation", "session_number", "entry_form"]
    invitation_id: UUID | None = None


class AssistantJoined(SessionEvent):
    csr_id: UserId
    name: DisplayName
    via: Literal["invitation", "session_number"]
    invitation_id: UUID | None = None


class ActiveCustomerSelected(SessionEvent):
    participant_id: ParticipantId


class ControlTransferred(SessionEvent):
    from_csr: UserId
    to_csr: UserId
    voice_continues: bool


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


class HandedToQueue(SessionEvent):
    from_csr: UserId
    queue_id: UUID
    message: HandOffMessage | None = None


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


SESSION_EVENTS: tuple[type[SessionEvent], ...] = (
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
    ControlGained,
    ControlReleased,
    NumberReserved,
    NumberReleased,
    SiteSettingsChanged,
    CsrSettingsChanged,
)

# --- commands -----------------------------------------------------------------------------------


class StartSession(SessionCommand):
    csr_id: UserId
    csr_name: DisplayName
    email_invite: bool = True


class OpenRequestedSession(SessionCommand):
    queue_id: UUID
    request_id: UUID
    customer_name: DisplayName
    customer_email: EmailAddress
    problem: str = Field(max_length=4000)


class JoinAsCustomer(SessionCommand):
    """By invitation (invite-svc checked the token) or by the session number from the website."""

    session_id: UUID | None = None
    session_number: SessionNumber | None = None
    name: DisplayName
    invitation_id: UUID | None = None

    @model_validator(mode="after")
    def _one_target(self) -> JoinAsCustomer:
        if (self.session_id is None) == (self.session_number is None):
            raise ValueError("give exactly one of session_id or session_number")
        return self


class JoinAsAssistant(SessionCommand):
    session_id: UUID | None = None
    session_number: SessionNumber | None = None
    csr_id: UserId
    name: DisplayName
    invitation_id: UUID | None = None

    @model_validator(mode="after")
    def _one_target(self) -> JoinAsAssistant:
        if (self.session_id is None) == (self.session_number is None):
            raise ValueError("give exactly one of session_id or session_number")
        return self


class SelectActiveCustomer(SessionCommand):
    session_id: UUID
    participant_id: ParticipantId


class StartActivity(SessionCommand):
    session_id: UUID
    kind: ActivityKind
    participant_id: ParticipantId


class EndActivity(SessionCommand):
    session_id: UUID
    activity_id: UUID


class TransferControl(SessionCommand):
    session_id: UUID
    to_csr: UserId


class HandOffToQueue(SessionCommand):
    session_id: UUID
    queue_id: UUID
    message: HandOffMessage | None = None


class HandOffToAgents(SessionCommand):
    session_id: UUID
    agent_ids: list[UserId] = Field(min_length=1)
    message: HandOffMessage | None = None


class RecordHeartbeat(SessionCommand):
    session_id: UUID


class CloseLapsedConsole(SessionCommand):
    """session-svc's own console watch: end the session if its console lapsed (S4)."""

    session_id: UUID


class AssignAgent(SessionCommand):
    session_id: UUID
    agent_id: UserId
    agent_name: DisplayName
    offer_id: UUID


class Leave(SessionCommand):
    session_id: UUID
    participant_id: ParticipantId


class EndSession(SessionCommand):
    session_id: UUID


class EndSessionAsAdmin(SessionCommand):
    """An admin ends any live or waiting session (issue 14.2); the gateway checks the role."""

    session_id: UUID


class RequeueSession(SessionCommand):
    """An admin puts a waiting session in a queue again (issue 14.2); the gateway checks the
    role and that the queue exists."""

    session_id: UUID
    queue_id: UUID


class ChangeSiteSettings(SessionCommand):
    settings: SiteSettings


class ChangeCsrSettings(SessionCommand):
    csr_id: UserId
    settings: CsrSettings


class AmendCsrSettings(SessionCommand):
    """Only the settings given change; the others stay as they are (issue 14.3)."""

    csr_id: UserId
    session_mode: SessionMode | None = None
    is_webacd_agent: bool | None = None
    voice_supported: bool | None = None


class GetSession(SessionCommand):
    """Query: the session's state rebuilt from its events."""

    session_id: UUID


class GetSessionEvents(SessionCommand):
    """Query: the session's events in order."""

    session_id: UUID


class GetSiteSettings(SessionCommand):
    """Query: the site settings now (other services read the limits they apply, e.g. I2)."""


class FindSessionByNumber(SessionCommand):
    """Query: the live session that has this number (S7, joining from the website)."""

    session_number: SessionNumber


SESSION_COMMANDS: tuple[type[SessionCommand], ...] = (
    StartSession,
    OpenRequestedSession,
    JoinAsCustomer,
    JoinAsAssistant,
    SelectActiveCustomer,
    StartActivity,
    EndActivity,
    TransferControl,
    HandOffToQueue,
    HandOffToAgents,
    RecordHeartbeat,
    CloseLapsedConsole,
    AssignAgent,
    Leave,
    EndSession,
    EndSessionAsAdmin,
    RequeueSession,
    ChangeSiteSettings,
    ChangeCsrSettings,
    AmendCsrSettings,
    GetSession,
    GetSessionEvents,
    FindSessionByNumber,
    GetSiteSettings,
)
