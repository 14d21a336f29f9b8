"""What services answer each other (issue 15.4): reply models, so a caller reads fields, not
keys of a dict, and renaming one fails the type check on both sides. ``support_rpc.ask`` sends
a command model and returns its reply model. The gateway answers with the same models
(``/openapi.json``)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from support_contracts.session import SiteSettings
from support_contracts.vocabulary import ActivityKind, Role


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
