"""WebACD routing (rules R1-R8, S9): events recorded by routing-svc and the commands it takes."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from support_contracts.base import Command, Event, Strict
from support_contracts.vocabulary import (
    AgentStatus,
    DisplayName,
    EmailAddress,
    HandOffMessage,
    RoutingPolicy,
    UserId,
)


class RoutingEvent(Event):
    context: ClassVar[str] = "routing"


class RoutingCommand(Command):
    context: ClassVar[str] = "routing"


class OpeningHours(Strict):
    """One weekday's window in the queue's time zone; 0 is Monday."""

    weekday: int = Field(ge=0, le=6)
    opens: time
    closes: time


class QueueDefinition(Strict):
    """What an admin sets for a queue (R1, R2, R4)."""

    name: DisplayName
    agent_ids: list[UserId]
    policy: RoutingPolicy
    time_zone: str = Field(min_length=1, max_length=64)
    hours: list[OpeningHours]
    escalation_seconds: int = Field(ge=1)
    offer_timeout_seconds: int = Field(ge=1)


class TaskSource(StrEnum):
    HAND_OFF = "hand_off"
    ENTRY_FORM = "entry_form"


class WithdrawReason(StrEnum):
    ACCEPTED_BY_ANOTHER = "accepted_by_another"
    SESSION_ENDED = "session_ended"
    AGENT_UNAVAILABLE = "agent_unavailable"


class QueueConfigured(RoutingEvent):
    queue_id: UUID
    definition: QueueDefinition


class AgentConfigured(RoutingEvent):
    agent_id: UserId
    name: DisplayName
    max_sessions: int = Field(ge=1)


class AgentStatusChanged(RoutingEvent):
    agent_id: UserId
    status: AgentStatus


class CustomerRequestReceived(RoutingEvent):
    request_id: UUID
    queue_id: UUID
    name: DisplayName
    email: EmailAddress
    problem: str = Field(max_length=4000)


class TaskQueued(RoutingEvent):
    task_id: UUID
    session_id: UUID
    source: TaskSource
    queue_id: UUID | None = None
    agent_ids: list[UserId] = Field(default_factory=list)
    message: HandOffMessage | None = None


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
    offer_id: UUID
    task_id: UUID
    session_id: UUID
    agent_id: UserId
    agent_name: DisplayName


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
    """In the agent's stream: the session ended or moved on; the slot is free (R7)."""

    agent_id: UserId
    session_id: UUID


class TaskWithdrawn(RoutingEvent):
    task_id: UUID
    session_id: UUID
    reason: WithdrawReason


ROUTING_EVENTS: tuple[type[RoutingEvent], ...] = (
    QueueConfigured,
    AgentConfigured,
    AgentStatusChanged,
    CustomerRequestReceived,
    TaskQueued,
    TaskEscalated,
    OfferMade,
    OfferAccepted,
    OfferDeclined,
    OfferExpired,
    OfferWithdrawn,
    TaskWithdrawn,
    AgentSessionStarted,
    AgentSessionFinished,
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


class AcceptOffer(RoutingCommand):
    task_id: UUID
    offer_id: UUID
    agent_id: UserId


class DeclineOffer(RoutingCommand):
    task_id: UUID
    offer_id: UUID
    agent_id: UserId


class SubmitEntryForm(RoutingCommand):
    queue_id: UUID
    name: DisplayName
    email: EmailAddress
    problem: str = Field(min_length=1, max_length=4000)


ROUTING_COMMANDS: tuple[type[RoutingCommand], ...] = (
    ConfigureQueue,
    ConfigureAgent,
    ChangeAgentStatus,
    AcceptOffer,
    DeclineOffer,
    SubmitEntryForm,
)
