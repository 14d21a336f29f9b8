"""What callers see of a session: its state rebuilt from events, as JSON (GET /v1/sessions)."""

from __future__ import annotations

from typing import Any

from session_svc.domain import Session
from support_contracts import Envelope
from support_contracts.vocabulary import format_session_number


def session_view(s: Session) -> dict[str, Any]:
    return {
        "session_id": str(s.id),
        "session_number": s.number,
        "session_number_display": format_session_number(s.number) if s.number else None,
        "status": s.status.value,
        "controller": s.controller,
        "participants": [
            {"id": p.id, "name": p.name, "role": p.role.value} for p in s.participants.values()
        ],
        "active_customer": s.active_customer,
        "activities": [
            {"activity_id": str(a.id), "kind": a.kind.value, "started_by": a.started_by}
            for a in s.activities.values()
        ],
        "handoff": None
        if s.handoff is None
        else {
            "queue_id": str(s.handoff.queue_id) if s.handoff.queue_id else None,
            "agent_ids": list(s.handoff.agent_ids),
            "message": s.handoff.message,
        },
        "version": s.version,
    }


def events_view(events: list[Envelope]) -> list[dict[str, Any]]:
    return [e.model_dump(mode="json") for e in events]
