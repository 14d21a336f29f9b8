"""S4: a session whose controller's console has not been seen for the grace period ends with
reason ``console_closed``.

The watch keeps, for each live session, when its console was last seen: a projection of the
log, rebuilt from the start of the log when the service starts, so no session is forgotten
across restarts. Each lapsed session is ended through the ordinary recipe, which decides on the
session's current state with the expected version: a session is never ended twice, even if
two replicas sweep at once (one runs at a time anyway, under the log's exclusive lock)."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import structlog

from eventlog import Transaction, keep_turning, lead
from eventlog.snapshots import Snapshots, catch_up
from session_svc.domain import Session, rules
from session_svc.writing import SessionLog
from support_contracts import Envelope, Event
from support_contracts.session import CloseLapsedConsole

log = structlog.get_logger(__name__)

SEEN = {"SessionStarted", "AgentAssigned", "ConsoleSeen"}
GONE = {"SessionEnded", "HandedToQueue", "HandedToAgents"}


class ConsoleWatch:
    def __init__(
        self, handlers: SessionLog, *, every_seconds: float = 5.0, snapshot_every: int = 10_000
    ) -> None:
        self._handlers, self._every = handlers, every_seconds
        self.last_seen: dict[UUID, datetime] = {}
        self.position = -1
        # a start folds from the latest snapshot, not from the start of the log (issue 13)
        self._snapshots = Snapshots(handlers.store, "console-watch/v1", every_events=snapshot_every)

    async def catch_up(self) -> None:
        await catch_up(self._handlers.store, self, self._snapshots)

    async def dump(self) -> bytes:
        return json.dumps({str(s): at.isoformat() for s, at in self.last_seen.items()}).encode()

    def restore(self, position: int, state: bytes) -> None:
        seen = {UUID(s): datetime.fromisoformat(at) for s, at in json.loads(state).items()}
        self.last_seen, self.position = seen, position

    def apply(self, event: Envelope) -> None:
        self.position = event.global_position
        if not event.stream_id.startswith("session-"):
            return
        session_id = UUID(event.stream_id.removeprefix("session-"))
        if event.type in SEEN:
            self.last_seen[session_id] = event.occurred_at
        elif event.type in GONE:
            self.last_seen.pop(session_id, None)

    async def sweep(self) -> list[UUID]:
        """End every session whose console lapsed; the ids of those ended now."""
        await self.catch_up()
        async with self._handlers.store.transaction() as tx:
            grace = timedelta(seconds=(await self._handlers.site(tx)).console_grace_seconds)
        now = self._handlers.now()
        ended = []
        for session_id in [s for s, seen in self.last_seen.items() if now - seen > grace]:
            if await self._close(session_id):
                ended.append(session_id)
        return ended

    async def _close(self, session_id: UUID) -> bool:
        cmd = CloseLapsedConsole(command_id=uuid4(), correlation_id=uuid4(), session_id=session_id)

        async def decide(s: Session, tx: Transaction) -> list[Event]:
            site = await self._handlers.site(tx)
            return rules.end_if_console_lapsed(s, now=self._handlers.now(), site=site)

        outcome = await self._handlers.run(cmd, session_id, decide)
        if outcome.recorded:
            log.info("session.console_closed", session_id=str(session_id))
        return bool(outcome.recorded)

    async def run(self) -> None:
        """Sweep until cancelled, in one replica at a time."""
        await lead(self._handlers.store, "console-watch", self._sweeping)

    async def _sweeping(self) -> None:
        async def turn() -> None:
            await self.sweep()
            await asyncio.sleep(self._every)

        await keep_turning(turn, failed="console_watch.retrying", retry_seconds=self._every)
