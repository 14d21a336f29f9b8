"""What the gateway answers, route by route, for ``/openapi.json`` (issue 14.13: a client
generated from it gets named, typed models, not untyped dicts). A service's reply is answered
as the service put it on the wire, so its model (``support_contracts.replies``) is the answer's;
the models here are what the gateway adds (where the relay is, the e-mail draft of a start).
Each names what is always there; an answer may carry more; schemathesis checks every answer
against them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from gateway.errors import responses
from support_contracts.replies import AgentReply as AgentReply
from support_contracts.replies import CsrReply as CsrReply
from support_contracts.replies import Draft, Offer, Session, TaskReply
from support_contracts.replies import EventsReply as EventsReply
from support_contracts.replies import InvitationReply as InvitationReply
from support_contracts.replies import QueueReply as QueueReply
from support_contracts.replies import QueueStatsReply as QueueStatsReply
from support_contracts.replies import SessionReply as SessionReply
from support_contracts.replies import SessionsReply as SessionsReply
from support_contracts.replies import SiteReply as SiteReply
from support_contracts.replies import StandingReply as StandingReply
from support_contracts.replies import StatusReasonsReply as StatusReasonsReply
from support_contracts.replies import WaitingReply as WaitingReply

__all__ = [
    "AgentReply",
    "CsrReply",
    "EventsReply",
    "InvitationReply",
    "QueueReply",
    "QueueStatsReply",
    "Session",
    "SessionReply",
    "SessionsReply",
    "SiteReply",
    "StandingReply",
    "StatusReasonsReply",
    "TaskReply",
    "WaitingReply",
]


class Relay(BaseModel):
    """Where the caller's client connects for chat and sharing (media-relay), and with what."""

    participant_token: str
    relay_url: str


class Started(Relay):
    session_id: UUID
    session_number: str
    session: Session
    join_url: str | None = Field(None, description="with `email_invite`: the link of the draft")
    draft: Draft | None = Field(None, description="with `email_invite`, unless it is pending")
    draft_pending: bool = Field(False, description="invite-svc did not answer: ask again")
    draft_error: str | None = None


class Joined(Relay):
    session_id: UUID
    participant_id: str


class Assisting(Relay):
    session: Session


class Offers(BaseModel):
    offers: list[Offer]


class Accepted(TaskReply, Relay):
    assigned: bool = Field(description="session-svc made the agent controller in time")


class Requested(Relay):
    request_id: UUID
    queue_id: UUID
    session_id: UUID
    participant_id: str


def documented(model: type[BaseModel], *errors: int, status: int = 200) -> dict[str, Any]:
    """A route's decorator arguments for its answers: ``model`` for success (documented only:
    the route hands back the service's reply as it came) and the error responses."""
    success = {"model": model, "description": model.__doc__ or model.__name__}
    return {
        "status_code": status,
        "response_model": None,
        "responses": {status: success, **responses(*errors)},
    }
