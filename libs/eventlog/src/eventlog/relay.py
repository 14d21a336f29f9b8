"""The outbox relay: committed events, in global order, to the broker; nothing else reaches it.

It publishes a batch, waits for every confirm, then records how far it got: at once if it has
not for ``checkpoint_seconds`` (0.1), otherwise that long after the last record, so that at a
low rate every event does not cost a write of its own (it did: two thirds of a statement per
command at 200 commands/s, measured). A crash before that record publishes those events
again on restart: at least once, never an uncommitted event. One relay per log runs at a time
across replicas (``store.exclusive``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog

from eventlog.follow import follow_batches
from eventlog.leadership import lead
from eventlog.store import EventStore
from eventlog.turns import keep_turning
from support_contracts import Envelope

log = structlog.get_logger(__name__)


class EventPublisher(Protocol):
    async def publish(self, events: Sequence[Envelope]) -> None:
        """Returns once the broker has confirmed every event, in the order given."""
        ...


class OutboxRelay:
    def __init__(
        self,
        store: EventStore,
        publisher: EventPublisher,
        *,
        name: str = "outbox",
        batch: int = 500,
        idle_seconds: float = 1.0,
        retry_seconds: float = 1.0,
        checkpoint_seconds: float = 0.1,
        publishes: Callable[[Envelope], bool] | None = None,
    ) -> None:
        """``publishes`` picks the events that go out, when a log also keeps copies of others'
        events (the relay's view of the sessions): the rest are passed over, in order."""
        self._store, self._publisher, self.name = store, publisher, name
        self._publishes = publishes
        self._batch, self._idle, self._retry = batch, idle_seconds, retry_seconds
        self._checkpoint_every, self._saved_at = checkpoint_seconds, -checkpoint_seconds
        self.position = -1
        self.published = 0
        self.leading = False

    async def run(self) -> None:
        """Relay until cancelled, in one replica at a time; a broker or database outage, or the
        lock lost with its connection, is waited out, not fatal."""
        await lead(self._store, f"relay:{self.name}", self._relay, retry_seconds=self._retry)

    async def _relay(self) -> None:
        self.leading = True
        try:
            await keep_turning(
                self._pump, failed="relay.retrying", retry_seconds=self._retry, relay=self.name
            )
        finally:
            self.leading = False

    async def _pump(self) -> None:
        self.position = await self._store.load_checkpoint(self.name)
        log.info("relay.resuming", relay=self.name, position=self.position)
        batches = follow_batches(
            self._store, self.position, batch=self._batch, idle_seconds=self._idle
        )
        saving: asyncio.Task[None] | None = None
        try:
            async for events in batches:
                outgoing = (
                    events if self._publishes is None else list(filter(self._publishes, events))
                )
                if outgoing:
                    await self._publisher.publish(outgoing)
                position = events[-1].global_position
                if saving is None or saving.done():  # no record on its way
                    wait = self._saved_at + self._checkpoint_every - time.monotonic()
                    if wait <= 0:
                        await self._save(position)
                    else:  # recorded in a moment, with whatever is published meanwhile
                        saving = asyncio.create_task(self._save_later(wait))
                self.position = position
                self.published += len(outgoing)
        finally:  # the lead lost, or the log away: whoever relays next saves its own
            if saving is not None:
                saving.cancel()

    async def _save(self, position: int) -> None:
        await self._store.save_checkpoint(self.name, position)
        self._saved_at = time.monotonic()

    async def _save_later(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        try:
            await self._save(self.position)
        except Exception as error:  # left to the next batch's record
            log.warning("relay.checkpoint_not_saved", relay=self.name, error=repr(error))
