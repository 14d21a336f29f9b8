"""What services answer each other (issue 15.4): reply models, so a caller reads fields, not
keys of a dict, and renaming one fails the type check on both sides. A service's handler
returns its reply model; ``support_rpc.ask`` sends a command model and returns its reply model.
On the wire a reply carries the fields that were set (``exclude_unset``), so an optional field
that does not apply is absent, not null. The gateway documents its answers with the same
models (``/openapi.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from support_contracts.envelope import Envelope
from support_contracts.invite import Channel
from support_contracts.routing import QueueDefinition
from support_contracts.session import CsrSettings, SiteSettings
from support_contracts.vocabulary import ActivityKind, AgentStatus, InviteeRole, Role

# --- session-svc --------------------------------------------------------------------------------


class Participant(BaseModel):
    id: str
    name: str
    role: Role


class Activity(BaseModel):
    activity_id: UUID
    kind: ActivityKind
    started_by: str


class Handoff(BaseModel):
    queue_id: UUID | None
    agent_ids: list[str]
    message: str | None


class Session(BaseModel):
    """A session rebuilt from its events."""

    session_id: UUID
    session_number: str | None
    session_number_display: str | None = Field(description="the number as `123 456 789`")
    status: Literal["new", "live", "waiting", "ended"]
    controller: str | None
    participants: list[Participant]
    active_customer: str | None
    activities: list[Activity]
    handoff: Handoff | None
    version: int = Field(description="the stream version of its last event")


class SessionReply(BaseModel):
    """session-svc's answer to a command or query on one session."""

    session: Session


class JoinedReply(SessionReply):
    """session-svc's answer to ``JoinAsCustomer``: the session, and the new participant."""

    participant_id: str


class ActivityReply(SessionReply):
    """session-svc's answer to ``StartActivity`` (with the new activity's id) and
    ``EndActivity``."""

    activity_id: UUID | None = None


class SiteReply(BaseModel):
    """session-svc's answer to ``GetSiteSettings``."""

    site: SiteSettings


class CsrReply(BaseModel):
    """session-svc's answer to a change of a csr's settings."""

    csr_id: str
    settings: CsrSettings


class EventsReply(BaseModel):
    """session-svc's answer to ``GetSessionEvents``: the session's events in order."""

    events: list[Envelope]


# --- invite-svc ---------------------------------------------------------------------------------


class Draft(BaseModel):
    """An e-mail for the csr's own mail program."""

    mailto: str
    to: str | None
    subject: str
    body: str


class Website(BaseModel):
    site: str
    session_number: str
    steps: list[str]


class InstantMessage(BaseModel):
    text: str


class InvitationReply(BaseModel):
    """invite-svc's answer to ``IssueInvitation``: what the channel needs, ``delivery``
    (e-mail), ``draft`` (own mail program), ``website`` (instructions) or ``instant_message``
    (a text to copy), with ``join_url``. Only the channel's fields are on the wire."""

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


class RedeemedReply(BaseModel):
    """invite-svc's answer to ``RedeemInvitation``: who joined which session, as what."""

    session_id: UUID
    participant_id: str
    role: InviteeRole


# --- routing-svc --------------------------------------------------------------------------------


class QueueReply(BaseModel):
    """routing-svc's answer to ``ConfigureQueue``, and with how it stands to ``GetQueue``."""

    queue_id: UUID
    definition: QueueDefinition
    open: bool | None = None
    waiting: int | None = None
    agents_free: int | None = None


class Offer(BaseModel):
    offer_id: UUID
    session_id: UUID
    queue_id: UUID | None
    queue_name: str | None
    message: str | None
    expires_at: datetime


class Agent(BaseModel):
    """An agent: configured capacity, status, the sessions held; ``GetAgent`` adds its open
    offers and whether routing may offer it more."""

    agent_id: str
    name: str
    max_sessions: int
    status: AgentStatus
    sessions: list[UUID]
    offers: list[Offer] | None = None
    eligible: bool | None = None


class AgentReply(BaseModel):
    agent: Agent


class TaskReply(BaseModel):
    """A session's routing task."""

    session_id: UUID
    task_id: UUID | None
    status: Literal["new", "waiting", "assigned", "withdrawn"]
    assigned_to: str | None


class EntryFormReply(JoinedReply):
    """routing-svc's answer to ``SubmitEntryForm``: the session opened for the customer."""

    request_id: UUID
    queue_id: UUID


class StandingReply(BaseModel):
    """Where a waiting session stands in its queue."""

    session_id: UUID
    queue_id: UUID | None
    position: int | None = Field(description="1 is next; none for named agents")
    waiting: int
    estimated_wait_seconds: float | None
