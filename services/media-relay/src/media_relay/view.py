"""The relay's own view of the sessions: who is in each, in which role, who controls it, who is
the active customer, which activities run. Folded from the ``session.*`` events the relay keeps
in its log, so a restarted relay rebuilds it (M1-M3).

Applying an event returns it with the session as it is now, and the hub enforces what it ends.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from uuid import UUID

import structlog

from eventlog import at_most
from eventlog.snapshots import json_array
from media_relay.domain.state import Activity, SessionView, Status, evolve, session_of
from support_contracts import ContractViolation, Envelope, Event
from support_contracts.vocabulary import ActivityKind, Role

log = structlog.get_logger(__name__)


def _row(s: SessionView) -> list[object]:
    activities = [[str(a.id), a.kind.value, a.started_by] for a in s.activities.values()]
    return [str(s.id), s.status.value, s.controller, s.last_controller, s.active_customer,
            s.participants, activities, s.version]  # fmt: skip


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

        return await at_most(within_seconds, holds()) or check()


def fold_session(session_id: UUID, events: list[Envelope]) -> SessionView | None:
    """One session from its stream in the relay's log (an ended one the view let go)."""
    view = RelayView()
    for envelope in events:
        view.apply(envelope)
    return view.get(session_id)
