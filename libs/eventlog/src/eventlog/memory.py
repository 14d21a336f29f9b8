"""The event log in memory: the same behaviour as PostgreSQL for one process, for the embedded
``make demo`` and fast tests. A transaction holds the log's lock from start to end, so
everything it does commits together, in order, or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from uuid import UUID

from eventlog.model import (
    Append,
    ConcurrencyConflict,
    DuplicateEvent,
    Expected,
    Handling,
    Lease,
    NewEvent,
    satisfied,
    with_events,
)
from eventlog.store import append_once_in
from eventlog.turns import woken
from support_contracts import Envelope


class _Staged:
    """What one transaction wrote, visible to it and to nobody else until it commits. The
    positions are final: the transaction holds the log's lock until then."""

    def __init__(self) -> None:
        self.events: list[Envelope] = []
        self.handled: set[tuple[str, UUID]] = set()
        self.checkpoints: dict[str, int] = {}


class InMemoryTransaction:
    def __init__(self, store: InMemoryEventStore) -> None:
        self._store = store
        self._staged = _Staged()

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        actual = await self.stream_version(stream_id)
        if not satisfied(expected_version, actual):
            raise ConcurrencyConflict(stream_id, expected_version, actual)
        staged_ids = {e.event_id for e in self._staged.events}
        for event in events:
            if event.event_id in self._store._event_ids or event.event_id in staged_ids:
                raise DuplicateEvent(f"an event of {stream_id} is in the log already")
        position = self._store._next_position + len(self._staged.events)
        recorded = [
            event.recorded(stream_id, actual + 1 + i, position + i)
            for i, event in enumerate(events)
        ]
        self._staged.events.extend(recorded)
        return recorded

    async def append_once(
        self, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
    ) -> list[Envelope] | None:
        return await append_once_in(self, stream_id, events, expected, once)

    async def append_streams(self, appends: Sequence[Append]) -> list[list[Envelope]]:
        with_events(appends)  # refuses a stream named twice
        # staged: all of it commits, or none
        return [await self.append(*a) if a.events else [] for a in appends]

    async def read_ahead(self, streams: Mapping[str, int], record: Handling | None = None) -> bool:
        return record is None or await self.record_handled(*record)  # reads cost nothing here

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]:
        committed = self._store._streams.get(stream_id, [])
        staged = [e for e in self._staged.events if e.stream_id == stream_id]
        return (committed + staged)[from_version:]

    async def stream_version(self, stream_id: str) -> int:
        return len(await self.read_stream(stream_id)) - 1

    async def record_handled(self, consumer: str, event_id: UUID) -> bool:
        key = (consumer, event_id)
        if key in self._store._handled or key in self._staged.handled:
            return False
        self._staged.handled.add(key)
        return True

    async def save_checkpoint(self, name: str, position: int) -> None:
        self._staged.checkpoints[name] = position

    def _commit(self) -> None:
        store = self._store
        for event in self._staged.events:
            store._streams.setdefault(event.stream_id, []).append(event)
            store._all.append(event)
            store._event_ids.add(event.event_id)
        store._next_position += len(self._staged.events)
        store._handled |= self._staged.handled
        for name, position in self._staged.checkpoints.items():
            store._checkpoints[name] = max(position, store._checkpoints.get(name, -1))
        if self._staged.events:
            store._on_append()


class InMemoryEventStore:
    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._streams: dict[str, list[Envelope]] = {}
        self._all: list[Envelope] = []
        self._event_ids: set[UUID] = set()
        self._handled: set[tuple[str, UUID]] = set()
        self._checkpoints: dict[str, int] = {}
        self._snapshots: dict[str, tuple[int, bytes]] = {}
        self._next_position = 1
        self._appended = asyncio.Event()
        self._exclusive: dict[str, asyncio.Lock] = {}

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        async with self.transaction() as tx:
            return await tx.append(stream_id, events, expected_version)

    async def append_once(
        self, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
    ) -> list[Envelope] | None:
        async with self.transaction() as tx:
            return await tx.append_once(stream_id, events, expected, once)

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]:
        return self._streams.get(stream_id, [])[from_version:]

    async def read_all(self, after_position: int = -1, limit: int = 1000) -> list[Envelope]:
        start = max(after_position, 0)  # positions are 1, 2, 3, ...: list index = position - 1
        return self._all[start : start + limit]

    async def stream_version(self, stream_id: str) -> int:
        return len(self._streams.get(stream_id, [])) - 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[InMemoryTransaction]:
        async with self._lock:
            tx = InMemoryTransaction(self)
            yield tx
            tx._commit()

    def decision(self) -> AbstractAsyncContextManager[InMemoryTransaction]:
        """A transaction: it holds the log's lock, so it stands on what it read."""
        return self.transaction()

    async def forget_handled(self, before: datetime, limit: int = 10_000) -> int:
        """Nothing: the in-memory log lives only as long as its process."""
        return 0

    async def load_checkpoint(self, name: str) -> int:
        return self._checkpoints.get(name, -1)

    async def save_checkpoint(self, name: str, position: int) -> None:
        async with self.transaction() as tx:
            await tx.save_checkpoint(name, position)

    async def load_snapshot(self, name: str) -> tuple[int, bytes] | None:
        return self._snapshots.get(name)

    async def save_snapshot(self, name: str, position: int, state: bytes) -> None:
        if position > self._snapshots.get(name, (-1, b""))[0]:
            self._snapshots[name] = (position, state)

    async def wait_for_events(self, after_position: int, at_most_seconds: float) -> None:
        appended = self._appended
        if self._all and self._all[-1].global_position > after_position:
            await asyncio.sleep(0)  # through the loop once, as every wait (turns.woken)
            return
        await woken(appended, at_most_seconds)

    def _on_append(self) -> None:
        appended, self._appended = self._appended, asyncio.Event()
        appended.set()

    @asynccontextmanager
    async def exclusive(self, name: str, poll_seconds: float = 1.0) -> AsyncIterator[Lease]:
        async with self._exclusive.setdefault(name, asyncio.Lock()):
            yield Lease(name)

    async def ready(self) -> None:
        return None

    async def head(self) -> int:
        return self._all[-1].global_position if self._all else -1

    async def close(self) -> None:
        return None
