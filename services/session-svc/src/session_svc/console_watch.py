"""S4: a session whose controller's console has not been seen for the grace period ends with
reason ``console_closed``.

The watch sweeps the sessions of ``live.LiveSessions`` (a projection of the log, rebuilt on
start from its snapshot and the log, so no session is forgotten across restarts): each live
one's console was last seen when it was started, assigned, taken over or heard from. Each
lapsed session is ended through the ordinary recipe, which decides on the session's current
state with the expected version: a session is never ended twice, even if two replicas sweep at
once (one runs at a time anyway, under the log's exclusive lock)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

import structlog

from eventlog import Transaction, keep_turning, lead
from session_svc.domain import Session, rules
from session_svc.writing import SessionLog
from support_contracts import Event
from support_contracts.session import CloseLapsedConsole

log = structlog.get_logger(__name__)


class ConsoleWatch:
    def __init__(self, handlers: SessionLog, *, every_seconds: float = 5.0) -> None:
        self._handlers, self._every = handlers, every_seconds

    async def sweep(self) -> list[UUID]:
        """End every session whose console lapsed; the ids of those ended now."""
        await self._handlers.sessions.catch_up()
        async with self._handlers.store.transaction() as tx:
            grace = timedelta(seconds=(await self._handlers.site(tx)).console_grace_seconds)
        now = self._handlers.now()
        ended = []
        for s in self._handlers.sessions.live():
            lapsed = s.console_seen_at is not None and now - s.console_seen_at > grace
            if lapsed and s.id is not None and await self._close(s.id):
                ended.append(s.id)
        return ended

    async def _close(self, session_id: UUID) -> bool:
        cmd = CloseLapsedConsole.new(session_id=session_id)

        async def decide(s: Session, tx: Transaction) -> list[Event]:
            site = await self._handlers.site(tx)
            return rules.end_if_console_lapsed(s, now=self._handlers.now(), site=site)

        outcome = await self._handlers.run(cmd, session_id, decide, self._handlers.reads(site=True))
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
