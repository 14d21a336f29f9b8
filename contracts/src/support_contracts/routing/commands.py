"""The commands routing-svc takes (R1-R18, S9) and the queries it answers."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field, model_validator

from support_contracts.base import Command, exactly_one
from support_contracts.routing.definitions import QueueDefinition
from support_contracts.vocabulary import (
    AgentStatus,
    DisplayName,
    EmailAddress,
    Proficiency,
    SkillName,
    StatusReason,
    UserId,
    WrapUpCode,
)


class RoutingCommand(Command):
    context: ClassVar[str] = "routing"


class ConfigureQueue(RoutingCommand):
    """A new queue (no ``queue_id``) or a change to one."""

    queue_id: UUID | None = None
    definition: QueueDefinition


class ConfigureAgent(RoutingCommand):
    agent_id: UserId
    name: DisplayName
    max_sessions: int = Field(ge=1)
    skills: dict[SkillName, Proficiency] | None = Field(default=None, max_length=50)  # R9


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


class OfferToAgent(RoutingCommand):
    """A supervisor offers a waiting session to an agent of their choosing (R17), who accepts
    or declines it as any offer; the gateway checks the role."""

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
    skills: list[SkillName] | None = Field(default=None, max_length=10)  # R9: the queue's and these


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
        message = "give exactly one of session_id and request_id"
        return exactly_one(self, "session_id", "request_id", message)


class ListWaiting(RoutingCommand):
    """Query (R17): every session waiting for an agent, or those waiting in one queue."""

    queue_id: UUID | None = None


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
    OfferToAgent,
    SubmitEntryForm,
    GetQueue,
    CheckRoom,
    GetQueueStats,
    GetAgent,
    GetWaitingPosition,
    ListWaiting,
)
