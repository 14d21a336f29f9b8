"""The relay's fold of a session (M1-M3): who is in it, in which role, who controls it, who is
the active customer, which activities run; pure, from the ``session.*`` events the relay keeps
in its log (``media_relay.view`` holds every session so folded)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import singledispatch
from uuid import UUID

from support_contracts import Envelope, Event, session
from support_contracts.vocabulary import ActivityKind, Role

SESSION_STREAM = "session-"


class Status(StrEnum):
    LIVE = "live"
    WAITING = "waiting"  # handed off or requested: no controller until an agent accepts
    ENDED = "ended"


@dataclass(frozen=True)
class Activity:
    id: UUID
    kind: ActivityKind
    started_by: str


@dataclass
class SessionView:
    id: UUID
    status: Status = Status.LIVE
    controller: str | None = None
    last_controller: str | None = None  # stays once the session ended: its recordings' owner
    active_customer: str | None = None
    participants: dict[str, Role] = field(default_factory=dict)
    activities: dict[UUID, Activity] = field(default_factory=dict)
    version: int = -1

    def running(self, kind: ActivityKind) -> Activity | None:
        return next((a for a in self.activities.values() if a.kind is kind), None)

    def as_json(self) -> dict[str, object]:
        return {
            "session_id": str(self.id),
            "status": self.status.value,
            "controller": self.controller,
            "active_customer": self.active_customer,
            "participants": [{"id": p, "role": r.value} for p, r in self.participants.items()],
            "activities": [
                {"activity_id": str(a.id), "kind": a.kind.value, "started_by": a.started_by}
                for a in self.activities.values()
            ],
        }


def session_of(envelope: Envelope) -> UUID | None:
    """The session a session-stream event belongs to; None for a csr's, a number's or the
    site's stream."""
    if not envelope.stream_id.startswith(SESSION_STREAM):
        return None
    return UUID(envelope.stream_id.removeprefix(SESSION_STREAM))


@singledispatch
def evolve(event: Event, s: SessionView) -> None:
    """Events that change nothing the relay needs (console seen, numbers, settings)."""


@evolve.register
def _(event: session.SessionStarted, s: SessionView) -> None:
    s.controller = s.last_controller = event.csr_id
    s.participants[event.csr_id] = Role.CONTROLLER


@evolve.register
def _(event: session.SessionRequested, s: SessionView) -> None:
    s.status = Status.WAITING
    s.participants[event.customer_id] = Role.CUSTOMER
    s.active_customer = event.customer_id


@evolve.register
def _(event: session.CustomerJoined, s: SessionView) -> None:
    s.participants[event.participant_id] = Role.CUSTOMER


@evolve.register
def _(event: session.AssistantJoined, s: SessionView) -> None:
    s.participants[event.csr_id] = Role.ASSISTANT


@evolve.register
def _(event: session.ActiveCustomerSelected, s: SessionView) -> None:
    s.active_customer = event.participant_id


@evolve.register
def _(event: session.ControlTransferred, s: SessionView) -> None:
    s.participants[event.from_csr] = Role.ASSISTANT
    s.participants[event.to_csr] = Role.CONTROLLER
    s.controller = s.last_controller = event.to_csr


@evolve.register
def _(event: session.ActivityStarted, s: SessionView) -> None:
    s.activities[event.activity_id] = Activity(event.activity_id, event.kind, event.started_by)


@evolve.register
def _(event: session.ActivityEnded, s: SessionView) -> None:
    s.activities.pop(event.activity_id, None)


@evolve.register
def _(event: session.ParticipantLeft, s: SessionView) -> None:
    s.participants.pop(event.participant_id, None)
    if s.controller == event.participant_id:
        s.controller = None
    if s.active_customer == event.participant_id:
        s.active_customer = None


@evolve.register(session.HandedToQueue)
@evolve.register(session.HandedToAgents)
def _(event: Event, s: SessionView) -> None:
    s.status = Status.WAITING  # the former controller's ParticipantLeft follows


@evolve.register
def _(event: session.AgentAssigned, s: SessionView) -> None:
    s.status = Status.LIVE
    s.controller = s.last_controller = event.agent_id
    s.participants[event.agent_id] = Role.CONTROLLER


@evolve.register
def _(event: session.SessionEnded, s: SessionView) -> None:
    s.status = Status.ENDED
    s.controller = None
    s.active_customer = None
    s.participants.clear()
    s.activities.clear()
