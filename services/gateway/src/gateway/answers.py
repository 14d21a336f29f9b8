"""What the gateway answers, route by route, for ``/openapi.json`` (issue 14.13: a client
generated from it gets named, typed models, not untyped dicts). The routes still hand back the
services' replies as they come; these models describe them (each names what is always there;
an answer may carry more) and schemathesis checks every answer against them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from gateway.errors import responses
from support_contracts import Envelope
from support_contracts.invite import Channel
from support_contracts.replies import Session as Session  # answered as it is
from support_contracts.routing import QueueDefinition
from support_contracts.session import CsrSettings, SiteSettings
from support_contracts.vocabulary import AgentStatus, InviteeRole


class SessionAnswer(BaseModel):
    session: Session


class Relay(BaseModel):
    """Where the caller's client connects for chat and sharing (media-relay), and with what."""

    participant_token: str
    relay_url: str


class Draft(BaseModel):
    """An e-mail for the csr's own mail program."""

    mailto: str
    to: str | None
    subject: str
    body: str


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


class Events(BaseModel):
    events: list[Envelope]


class Website(BaseModel):
    site: str
    session_number: str
    steps: list[str]


class InstantMessage(BaseModel):
    text: str


class Invitation(BaseModel):
    """What the channel needs: ``delivery`` (e-mail), ``draft`` (own mail program),
    ``website`` (instructions) or ``instant_message`` (a text to copy), with ``join_url``."""

    invitation_id: UUID
    channel: Channel
    role: InviteeRole
    expires_at: datetime
    delivery: Literal["queued"] | None = None
    to: str | None = None
    join_url: str | None = None
    draft: Draft | None = None
    website: Website | None = None
    instant_message: InstantMessage | None = None


class Site(BaseModel):
    site: SiteSettings


class Queue(BaseModel):
    queue_id: UUID
    definition: QueueDefinition


class Agent(BaseModel):
    agent_id: str
    name: str
    max_sessions: int
    status: AgentStatus
    sessions: list[UUID]


class AgentAnswer(BaseModel):
    agent: Agent


class Csr(BaseModel):
    csr_id: str
    settings: CsrSettings


class Offer(BaseModel):
    offer_id: UUID
    session_id: UUID
    queue_id: UUID | None
    queue_name: str | None
    message: str | None
    expires_at: datetime


class Offers(BaseModel):
    offers: list[Offer]


class Task(BaseModel):
    """A session's routing task."""

    session_id: UUID
    task_id: UUID | None
    status: Literal["new", "waiting", "assigned", "withdrawn"]
    assigned_to: str | None


class Accepted(Task, Relay):
    assigned: bool = Field(description="session-svc made the agent controller in time")


class Requested(Relay):
    request_id: UUID
    queue_id: UUID
    session_id: UUID
    participant_id: str


class Standing(BaseModel):
    session_id: UUID
    queue_id: UUID | None
    position: int | None = Field(description="1 is next; none for named agents")
    waiting: int
    estimated_wait_seconds: float | None


def documented(model: type[BaseModel], *errors: int, status: int = 200) -> dict[str, Any]:
    """A route's decorator arguments for its answers: ``model`` for success (documented only:
    the route hands back the service's reply as it came) and the error responses."""
    success = {"model": model, "description": model.__doc__ or model.__name__}
    return {
        "status_code": status,
        "response_model": None,
        "responses": {status: success, **responses(*errors)},
    }
