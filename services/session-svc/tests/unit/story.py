"""Given/when/then helpers for the session's rules: events in, a command, events out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

from session_svc.domain import Csr, Session, apply
from session_svc.domain.settings import DEFAULT_SITE
from support_contracts import Command, Event, session
from support_contracts.vocabulary import ActivityKind, SessionMode

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SESSION = UUID("00000000-0000-4000-8000-000000000001")
C = TypeVar("C", bound=Command)


def command(message: type[C], actor: str | None = None, /, **fields: Any) -> C:
    return message.new(actor_id=actor, **fields)


def given(*events: Event, at: datetime = T0) -> Session:
    return apply(Session(), list(events), at)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def started(csr: str = "alice") -> session.SessionStarted:
    return session.SessionStarted(
        session_id=SESSION,
        session_number="123456789",
        csr_id=csr,
        csr_name=csr.title(),
        email_invite=True,
    )


def customer(pid: str = "bob") -> session.CustomerJoined:
    return session.CustomerJoined(participant_id=pid, name=pid.title(), via="session_number")


def assistant(csr: str = "carol") -> session.AssistantJoined:
    return session.AssistantJoined(csr_id=csr, name=csr.title(), via="session_number")


def site(**changes: Any) -> session.SiteSettings:
    return DEFAULT_SITE.model_copy(update=changes)


def csr(
    mode: SessionMode = SessionMode.SINGLE,
    *,
    agent: bool = False,
    voice: bool = True,
    controls: int = 0,
) -> Csr:
    settings = session.CsrSettings(session_mode=mode, is_webacd_agent=agent, voice_supported=voice)
    return Csr(settings=settings, controls=frozenset(uuid4() for _ in range(controls)))


SHARE = ActivityKind.DESKTOP_SHARING


def activity(kind: ActivityKind, by: str = "alice") -> session.ActivityStarted:
    return session.ActivityStarted(activity_id=uuid4(), kind=kind, started_by=by)


def starting(kind: ActivityKind, by: str = "alice") -> session.StartActivity:
    """``by`` asks to start ``kind`` in the story's session."""
    return command(session.StartActivity, by, session_id=SESSION, kind=kind, participant_id=by)


def start(**kw: object) -> session.StartSession:
    return command(session.StartSession, "alice", csr_id="alice", csr_name="Alice", **kw)


def join(name: str = "Dana") -> session.JoinAsCustomer:
    return command(session.JoinAsCustomer, None, session_id=SESSION, name=name)
