"""Following a log in global order: every committed event once, none skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator

from eventlog.store import EventStore
from support_contracts import Envelope


async def follow_batches(
    store: EventStore, after_position: int = -1, *, batch: int = 500, idle_seconds: float = 1.0
) -> AsyncIterator[list[Envelope]]:
    """Batches of events after ``after_position``, forever; wakes on append, polls when idle."""
    position = after_position
    while True:
        events = await store.read_all(position, batch)
        if events:
            position = events[-1].global_position
            yield events
        if len(events) < batch:
            await store.wait_for_events(position, idle_seconds)


async def follow(
    store: EventStore, after_position: int = -1, *, batch: int = 500, idle_seconds: float = 1.0
) -> AsyncIterator[Envelope]:
    async for events in follow_batches(
        store, after_position, batch=batch, idle_seconds=idle_seconds
    ):
        for event in events:
            yield event
