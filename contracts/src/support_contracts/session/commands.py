"""The commands and queries session-svc takes."""

from __future__ import annotations

from typing import ClassVar, Literal, Self
from uuid import UUID

from pydantic import Field, model_validator

from support_contracts.base import Command, Strict, exactly_one
from support_contracts.session.events import CustomerRequest, QueueHandOff
from support_contracts.session.settings import CsrSettings, SiteSettings
from support_contracts.vocabulary import (
    ActivityKind,
    DisplayName,
    HandOffMessage,
    ParticipantId,
    SessionMode,
    SessionNumber,
    UserId,
)


class SessionCommand(Command):
    context: ClassVar[str] = "session"


class StartSession(SessionCommand):
    csr_id: UserId
    csr_name: DisplayName
    email_invite: bool = True


class OpenRequestedSession(SessionCommand, CustomerRequest):
    """R8: routing-svc opens the session a customer's entry form asked for."""


class SessionTarget(Strict):
    """A session named by its id or by its number: exactly one of the two."""

    session_id: UUID | None = None
    session_number: SessionNumber | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        message = "give exactly one of session_id or session_number"
        return exactly_one(self, "session_id", "session_number", message)


class JoinAsCustomer(SessionCommand, SessionTarget):
    """By invitation (invite-svc checked the token) or by the session number from the website."""

    name: DisplayName
    invitation_id: UUID | None = None


class JoinAsAssistant(SessionCommand, SessionTarget):
    csr_id: UserId
    name: DisplayName
    invitation_id: UUID | None = None


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


class HandOffToQueue(SessionCommand, QueueHandOff):
    session_id: UUID


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


class TakeOverSession(SessionCommand):
    """R17: a supervisor takes over a live session: becomes its controller, the controller
    stays as an assistant (as after S8's transfer); the gateway checks the role."""

    session_id: UUID
    supervisor_id: UserId
    supervisor_name: DisplayName


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


class ListSessions(SessionCommand):
    """Query (R17): every session not ended, or only the live or the waiting ones."""

    status: Literal["live", "waiting"] | None = None


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
    TakeOverSession,
    ChangeSiteSettings,
    ChangeCsrSettings,
    AmendCsrSettings,
    GetSession,
    GetSessionEvents,
    FindSessionByNumber,
    ListSessions,
    GetSiteSettings,
)
