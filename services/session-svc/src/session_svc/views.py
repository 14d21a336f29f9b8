"""What callers see of a session: its state rebuilt from events (GET /v1/sessions)."""

from __future__ import annotations

from datetime import datetime

from session_svc.domain import Session, Status
from support_contracts import replies
from support_contracts.vocabulary import format_session_number


def session_view(s: Session) -> replies.Session:
    """The reply model (``support_contracts.replies.Session``): what invite-svc, the relay and
    the gateway read is typed on both sides."""
    handoff = s.handoff
    return replies.Session(
        session_id=s.id,
        session_number=s.number,
        session_number_display=format_session_number(s.number) if s.number else None,
        status=s.status.value,
        controller=s.controller,
        participants=[
            replies.Participant(id=p.id, name=p.name, role=p.role) for p in s.participants.values()
        ],
        active_customer=s.active_customer,
        activities=[
            replies.Activity(activity_id=a.id, kind=a.kind, started_by=a.started_by)
            for a in s.activities.values()
        ],
        handoff=None
        if handoff is None
        else replies.Handoff(
            queue_id=handoff.queue_id, agent_ids=list(handoff.agent_ids), message=handoff.message
        ),
        version=s.version,
    )


def session_row(s: Session, started_at: datetime) -> replies.SessionRow:
    """R17: a session in a supervisor's list (``live.LiveSessions``)."""
    assert s.id is not None and s.number is not None
    controller = s.participants.get(s.controller or "")
    return replies.SessionRow(
        session_id=s.id,
        session_number=s.number,
        session_number_display=format_session_number(s.number),
        status="live" if s.status is Status.LIVE else "waiting",
        controller=s.controller,
        controller_name=controller.name if controller else None,
        participants=[
            replies.Participant(id=p.id, name=p.name, role=p.role) for p in s.participants.values()
        ],
        started_at=started_at,
        console_seen_at=s.console_seen_at,
    )
