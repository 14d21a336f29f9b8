"""Every session not ended, as the log has it: what a supervisor's list shows (R17) and what
the console watch sweeps (S4).

A projection of the log folded with the session's own ``evolve`` (``domain/state.py``), so a
row is the session the commands see, short of what a list does not show: its activities, its
hand-off and its active customer are not kept in a snapshot. It is rebuilt on start from its
latest snapshot (``live-sessions/v1``) and the events after it, and brought up to the log before
each question, so a list answered right after a command shows it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventlog import EventStore
from eventlog.snapshots import Snapshots, catch_up, json_array
from session_svc.domain import Session, Status
from session_svc.domain.state import Participant, evolve
from session_svc.views import session_row
from support_contracts import Envelope, Event
from support_contracts.replies import SessionRow
from support_contracts.vocabulary import Role

SNAPSHOT = "live-sessions/v1"
# the events that change a session's state; the others (an invitation's, an activity's) need
# not be read at all
FOLDED = frozenset(
    k.event_type() for k in evolve.registry if issubclass(k, Event) and k is not Event
)


@dataclass(frozen=True)
class Row:
    session: Session
    started_at: datetime  # when it was started or requested

    def reply(self) -> SessionRow:
        return session_row(self.session, self.started_at)


class LiveSessions:
    def __init__(self, store: EventStore, *, snapshot_every: int = 10_000) -> None:
        self.store = store
        self.rows: dict[UUID, Row] = {}
        self.position = -1
        self._snapshots = Snapshots(store, SNAPSHOT, every_events=snapshot_every)
        self._folding = asyncio.Lock()  # a sweep and a question may ask at once

    async def catch_up(self) -> None:
        async with self._folding:
            await catch_up(self.store, self, self._snapshots)

    async def listed(self, status: Status | None = None) -> list[SessionRow]:
        """The sessions not ended (or those with ``status``), the longest running first."""
        await self.catch_up()
        rows = sorted(self.rows.values(), key=lambda r: r.started_at)
        return [r.reply() for r in rows if status is None or r.session.status is status]

    def live(self) -> list[Session]:
        return [r.session for r in self.rows.values() if r.session.status is Status.LIVE]

    def apply(self, envelope: Envelope) -> None:
        self.position = envelope.global_position
        if not envelope.stream_id.startswith("session-") or envelope.type not in FOLDED:
            return
        session_id = UUID(envelope.stream_id.removeprefix("session-"))
        row = self.rows.get(session_id)
        before = row.session if row else Session()
        after = evolve(envelope.event(), before, envelope.occurred_at)
        if after.status in (Status.NEW, Status.ENDED):
            self.rows.pop(session_id, None)
            return
        self.rows[session_id] = Row(after, row.started_at if row else envelope.occurred_at)

    async def dump(self) -> bytes:
        return await json_array(self.rows.values(), _dumped)

    def restore(self, position: int, state: bytes) -> None:
        rows = [_restored(r) for r in json.loads(state)]
        self.rows, self.position = {r.session.id: r for r in rows if r.session.id}, position


def _dumped(row: Row) -> dict[str, Any]:
    s = row.session
    return {
        "id": str(s.id),
        "number": s.number,
        "status": s.status.value,
        "controller": s.controller,
        "participants": [[p.id, p.name, p.role.value] for p in s.participants.values()],
        "console_seen_at": s.console_seen_at.isoformat() if s.console_seen_at else None,
        "started_at": row.started_at.isoformat(),
    }


def _restored(r: dict[str, Any]) -> Row:
    seen = r["console_seen_at"]
    people = {p[0]: Participant(p[0], p[1], Role(p[2])) for p in r["participants"]}
    session = Session(
        id=UUID(r["id"]),
        number=r["number"],
        status=Status(r["status"]),
        controller=r["controller"],
        participants=people,
        console_seen_at=datetime.fromisoformat(seen) if seen else None,
    )
    return Row(session, datetime.fromisoformat(r["started_at"]))
