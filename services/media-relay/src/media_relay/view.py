"""The relay's own view of the sessions: who is in each, in which role, who controls it, who is
the active customer, which activities run. Folded from the ``session.*`` events the relay keeps
in its log, so a restarted relay rebuilds it (M1-M3).

Applying an event returns it with the session as it is now, and the hub enforces what it ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import singledispatch
from uuid import UUID

import structlog

from eventlog.snapshots import json_array
from support_contracts import ContractViolation, Envelope, Event
from support_contracts.session import (
    ActiveCustomerSelected,
    ActivityEnded,
    ActivityStarted,
    AgentAssigned,
    AssistantJoined,
    ControlTransferred,
    CustomerJoined,
    HandedToAgents,
    HandedToQueue,
    ParticipantLeft,
    SessionEnded,
    SessionRequested,
    SessionStarted,
)
from support_contracts.vocabulary import ActivityKind, Role

log = structlog.get_logger(__name__)

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


def _row(s: SessionView) -> list[object]:
    activities = [[str(a.id), a.kind.value, a.started_by] for a in s.activities.values()]
    return [str(s.id), s.status.value, s.controller, s.last_controller, s.active_customer,
            s.participants, activities, s.version]  # fmt: skip


def session_of(envelope: Envelope) -> UUID | None:
    """The session a session-stream event belongs to; None for a csr's, a number's or the
    site's stream."""
    if not envelope.stream_id.startswith(SESSION_STREAM):
        return None
    return UUID(envelope.stream_id.removeprefix(SESSION_STREAM))


class RelayView:
    """Every live or waiting session the relay has heard of, the ``keep_ended`` that ended last
    (issue 13: the view no longer grows with the whole history; an older ended session is
    read back from the log when asked for, ``fold_session``), and waiters for what a caller
    expects to see (a participant who just joined, an activity just started)."""

    def __init__(self, *, keep_ended: int = 10_000) -> None:
        self.sessions: dict[UUID, SessionView] = {}
        self._ended: dict[UUID, None] = {}  # in the order they ended: the oldest goes first
        self._keep_ended = keep_ended
        self.position = -1
        self.following = True  # False while the log cannot be read (a database outage)
        self._changed = asyncio.Condition()

    def get(self, session_id: UUID) -> SessionView | None:
        return self.sessions.get(session_id)

    async def dump(self) -> bytes:
        """Every session as folded so far: the state of a snapshot at ``position``, dumped in
        turns (only the task that folds the view awaits it)."""
        return await json_array(list(self.sessions.values()), _row)

    def restore(self, position: int, state: bytes) -> None:
        """The view as ``dump`` left it, folded up to ``position``."""
        sessions = {}
        for row in json.loads(state):
            sid, status, controller, last, active, participants, activities, version = row
            session = SessionView(
                UUID(sid), Status(status), controller, last, active,
                {p: Role(r) for p, r in participants.items()},
                {UUID(a): Activity(UUID(a), ActivityKind(k), by) for a, k, by in activities},
                version,
            )  # fmt: skip
            sessions[session.id] = session
        self.sessions, self.position = sessions, position
        self._ended = {s.id: None for s in sessions.values() if s.status is Status.ENDED}

    def apply(self, envelope: Envelope) -> tuple[SessionView, Event] | None:
        """Fold one event of the log; the session and the event if it was a session's."""
        self.position = max(self.position, envelope.global_position)
        session_id = session_of(envelope)
        if session_id is None:
            return None
        try:
            event = envelope.event()
        except ContractViolation as error:  # kept before it was checked: passed over, logged
            log.error("relay.unreadable_event", event_id=str(envelope.event_id), error=str(error))
            return None
        session = self.sessions.setdefault(session_id, SessionView(session_id))
        if envelope.stream_version <= session.version:
            return None  # an event the view has folded already
        evolve(event, session)
        session.version = envelope.stream_version
        if session.status is Status.ENDED and session_id not in self._ended:
            self._ended[session_id] = None
            while len(self._ended) > self._keep_ended:
                oldest = next(iter(self._ended))
                del self._ended[oldest]
                del self.sessions[oldest]
        return session, event

    async def changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_until(self, check: Callable[[], bool], *, within_seconds: float) -> bool:
        """Wait until ``check`` holds on the view, at most ``within_seconds``: a participant
        connecting right after joining may be a few milliseconds ahead of the events."""

        async def holds() -> None:
            async with self._changed:
                await self._changed.wait_for(check)

        try:
            await asyncio.wait_for(holds(), within_seconds)
        except TimeoutError:
            return check()
        return True


def fold_session(session_id: UUID, events: list[Envelope]) -> SessionView | None:
    """One session from its stream in the relay's log (an ended one the view let go)."""
    view = RelayView()
    for envelope in events:
        view.apply(envelope)
    return view.get(session_id)


@singledispatch
def evolve(event: Event, s: SessionView) -> None:
    """Events that change nothing the relay needs (console seen, numbers, settings)."""


@evolve.register
def _(event: SessionStarted, s: SessionView) -> None:
    s.controller = s.last_controller = event.csr_id
    s.participants[event.csr_id] = Role.CONTROLLER


@evolve.register
def _(event: SessionRequested, s: SessionView) -> None:
    s.status = Status.WAITING
    s.participants[event.customer_id] = Role.CUSTOMER
    s.active_customer = event.customer_id


@evolve.register
def _(event: CustomerJoined, s: SessionView) -> None:
    s.participants[event.participant_id] = Role.CUSTOMER


@evolve.register
def _(event: AssistantJoined, s: SessionView) -> None:
    s.participants[event.csr_id] = Role.ASSISTANT


@evolve.register
def _(event: ActiveCustomerSelected, s: SessionView) -> None:
    s.active_customer = event.participant_id


@evolve.register
def _(event: ControlTransferred, s: SessionView) -> None:
    s.participants[event.from_csr] = Role.ASSISTANT
    s.participants[event.to_csr] = Role.CONTROLLER
    s.controller = s.last_controller = event.to_csr


@evolve.register
def _(event: ActivityStarted, s: SessionView) -> None:
    s.activities[event.activity_id] = Activity(event.activity_id, event.kind, event.started_by)


@evolve.register
def _(event: ActivityEnded, s: SessionView) -> None:
    s.activities.pop(event.activity_id, None)


@evolve.register
def _(event: ParticipantLeft, s: SessionView) -> None:
    s.participants.pop(event.participant_id, None)
    if s.controller == event.participant_id:
        s.controller = None
    if s.active_customer == event.participant_id:
        s.active_customer = None


@evolve.register(HandedToQueue)
@evolve.register(HandedToAgents)
def _(event: Event, s: SessionView) -> None:
    s.status = Status.WAITING  # the former controller's ParticipantLeft follows


@evolve.register
def _(event: AgentAssigned, s: SessionView) -> None:
    s.status = Status.LIVE
    s.controller = s.last_controller = event.agent_id
    s.participants[event.agent_id] = Role.CONTROLLER


@evolve.register
def _(event: SessionEnded, s: SessionView) -> None:
    s.status = Status.ENDED
    s.controller = None
    s.active_customer = None
    s.participants.clear()
    s.activities.clear()
