"""What services answer each other (issue 15.4): reply models, so a caller reads fields, not
keys of a dict, and renaming one fails the type check on both sides. A service's handler
returns its reply model; ``support_rpc.ask`` sends a command model and returns its reply model.
On the wire a reply carries the fields that were set (``Reply``), so an optional field that
does not apply is absent, not null; the contracts' own models inside (a queue's definition,
settings, events) are written whole. The gateway documents its answers with the same
models (``/openapi.json``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from support_contracts.envelope import Envelope
from support_contracts.invite import Channel
from support_contracts.routing import QueueDefinition
from support_contracts.session import CsrSettings, SiteSettings
from support_contracts.vocabulary import ActivityKind, AgentStatus, InviteeRole, Role


class Reply(BaseModel):
    """A reply model: dumped, it has the fields that were set (given when it was built, or
    present in the JSON it was read from), so a reply read and written again is the same."""

    # no return annotation: pydantic would take it for the serialised schema, and every reply
    # in /openapi.json would be "any" (the test of issue 14.13 caught it)
    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        dumped = handler(self)
        return {k: v for k, v in dumped.items() if k in self.model_fields_set}


# --- session-svc --------------------------------------------------------------------------------


class Participant(Reply):
    id: str
    name: str
    role: Role


class Activity(Reply):
    activity_id: UUID
    kind: ActivityKind
    started_by: str


class Handoff(Reply):
    queue_id: UUID | None
    agent_ids: list[str]
    message: str | None


class Session(Reply):
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


class SessionReply(Reply):
    """session-svc's answer to a command or query on one session."""

    session: Session


class JoinedReply(SessionReply):
    """session-svc's answer to ``JoinAsCustomer``: the session, and the new participant."""

    participant_id: str


class ActivityReply(SessionReply):
    """session-svc's answer to ``StartActivity`` (with the new activity's id) and
    ``EndActivity``."""

    activity_id: UUID | None = None


class SessionRow(Reply):
    """R17: a session not ended, as a supervisor's list shows it: who controls it (none while
    it waits for an agent), who is in it, since when, and when its controller's console was
    last seen (S4)."""

    session_id: UUID
    session_number: str
    session_number_display: str
    status: Literal["live", "waiting"]
    controller: str | None
    controller_name: str | None
    participants: list[Participant]
    started_at: datetime
    console_seen_at: datetime | None


class SessionsReply(Reply):
    sessions: list[SessionRow]


class SiteReply(Reply):
    """session-svc's answer to ``GetSiteSettings``."""

    site: SiteSettings


class CsrReply(Reply):
    """session-svc's answer to a change of a csr's settings."""

    csr_id: str
    settings: CsrSettings


class EventsReply(Reply):
    """session-svc's answer to ``GetSessionEvents``: the session's events in order."""

    events: list[Envelope]


# --- invite-svc ---------------------------------------------------------------------------------


class Draft(Reply):
    """An e-mail for the csr's own mail program."""

    mailto: str
    to: str | None
    subject: str
    body: str


class Website(Reply):
    site: str
    session_number: str
    steps: list[str]


class InstantMessage(Reply):
    text: str


class InvitationReply(Reply):
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


class RedeemedReply(Reply):
    """invite-svc's answer to ``RedeemInvitation``: who joined which session, as what."""

    session_id: UUID
    participant_id: str
    role: InviteeRole


# --- routing-svc --------------------------------------------------------------------------------


class QueueReply(Reply):
    """routing-svc's answer to ``ConfigureQueue``, and with how it stands to ``GetQueue``."""

    queue_id: UUID
    definition: QueueDefinition
    open: bool | None = None
    waiting: int | None = None
    agents_free: int | None = None
    place_frees_in_seconds: float | None = None  # R15: about when the next one is taken


class IntervalStats(Reply):
    """R16: a queue's figures for one 15-minute interval (``QueueIntervalEnded`` says what each
    means)."""

    starts: datetime
    ends: datetime
    offered: int
    answered: int
    answered_in_time: int
    abandoned: int
    service_level_seconds: int
    service_level: float | None
    average_wait_seconds: float | None
    average_handle_seconds: float | None


class QueueStats(Reply):
    """R16: a queue now (waiting, the longest wait, its agents by state) and the interval under
    way."""

    queue_id: UUID
    name: str
    waiting: int
    longest_wait_seconds: float | None
    agents: dict[str, int]  # available (with a free slot), busy, wrapping_up, away, offline
    interval: IntervalStats


class QueueStatsReply(Reply):
    queues: list[QueueStats]


class WaitingSession(Reply):
    """R17: a session waiting for an agent, as a supervisor sees it: where it waits (a queue,
    or named agents), its priority (R10), how long it has waited, its place in the queue, and
    to whom it is offered now."""

    session_id: UUID
    queue_id: UUID | None
    queue_name: str | None
    named_agents: list[str]
    priority: int
    waited_seconds: float
    position: int | None = Field(description="1 is next; none for named agents")
    escalated: bool
    overflow_queue_id: UUID | None
    offered_to: list[str]


class WaitingReply(Reply):
    sessions: list[WaitingSession]


class Offer(Reply):
    offer_id: UUID
    session_id: UUID
    queue_id: UUID | None
    queue_name: str | None
    message: str | None
    expires_at: datetime


class WrapUp(Reply):
    """R11: a session the agent is wrapping up, its slot taken until ``until``."""

    session_id: UUID
    queue_id: UUID
    until: datetime
    codes: list[str]
    code_required: bool


class Agent(Reply):
    """An agent: configured capacity, status, the sessions held; ``GetAgent`` adds its open
    offers and whether routing may offer it more."""

    agent_id: str
    name: str
    max_sessions: int
    status: AgentStatus
    sessions: list[UUID]
    offers: list[Offer] | None = None
    eligible: bool | None = None
    reason: str | None = None  # R12: why it is away or offline, when said
    # R12: seconds in each state since it was configured, up to now: "available", "away",
    # "offline", and for each reason given "away:lunch", "offline:end_of_shift"...
    time_in_state: dict[str, float] | None = None
    wrap_ups: list[WrapUp] | None = None  # R11: what it wraps up now (its slots still taken)
    skills: dict[str, int] | None = None  # R9: each skill's proficiency, 1-5


class AgentReply(Reply):
    agent: Agent


class StatusReasonsReply(Reply):
    """R12: the site's reasons for away and offline."""

    reasons: list[str]


class TaskReply(Reply):
    """A session's routing task."""

    session_id: UUID
    task_id: UUID | None
    status: Literal["new", "waiting", "assigned", "withdrawn"]
    assigned_to: str | None


class EntryFormReply(JoinedReply):
    """routing-svc's answer to ``SubmitEntryForm``: the session opened for the customer."""

    request_id: UUID
    queue_id: UUID


class StandingReply(Reply):
    """Where a waiting session stands in its queue."""

    session_id: UUID
    queue_id: UUID | None
    position: int | None = Field(description="1 is next; none for named agents")
    waiting: int
    estimated_wait_seconds: float | None
