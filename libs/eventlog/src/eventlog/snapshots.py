"""A view folded from the whole log costs a start more the longer the log grows. A reader that
keeps one (the relay's sessions, the console watch) saves it now and then, with the position
it was folded to, and a start takes the latest and folds only what came after.

A snapshot is a cache: saving one may fail (the database away) and loading one may find a
state this code cannot read (the view changed shape); either way the reader goes on, folding
from where it is or from the start. The name carries the state's format version, so a new
shape never reads an old one.

``catch_up`` is the one way a view is brought up to the log: the latest snapshot the first
time, then every event after the view's position, saving a snapshot every so often.

A large view is dumped in turns (:func:`json_array`): the relay's 20,000 sessions took 155 ms
to dump at once (measured), and every WebSocket of the process waited that long. The view must
not change while it is dumped: the task that folds it is the one that awaits the dump."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol, TypeVar

import structlog

from eventlog.store import EventStore
from support_contracts import Envelope

log = structlog.get_logger(__name__)

T = TypeVar("T")
ROWS_AT_A_TIME = 500

State = Callable[[], bytes | None] | Callable[[], Awaitable[bytes | None]]


async def json_array(
    items: Iterable[T], row: Callable[[T], object], *, at_a_time: int = ROWS_AT_A_TIME
) -> bytes:
    """``[row(item), ...]`` as JSON, ``at_a_time`` rows between turns of the event loop."""
    parts: list[str] = []
    chunk: list[object] = []
    for item in items:
        chunk.append(row(item))
        if len(chunk) == at_a_time:
            parts.append(json.dumps(chunk)[1:-1])
            chunk = []
            await asyncio.sleep(0)
    if chunk:
        parts.append(json.dumps(chunk)[1:-1])
    return f"[{','.join(parts)}]".encode()


class Snapshots:
    def __init__(self, store: EventStore, name: str, *, every_events: int = 10_000) -> None:
        self._store, self.name, self._every = store, name, every_events
        self._since = 0  # events folded since the last snapshot saved or loaded

    async def restore(self, restore: Callable[[int, bytes], None]) -> int | None:
        """Hand the latest snapshot to ``restore`` (position, state); its position, or None
        if there was none or it could not be read."""
        found = await self._store.load_snapshot(self.name)
        if found is None:
            return None
        try:
            restore(*found)
        except Exception as error:
            log.warning("snapshot.unreadable", snapshot=self.name, error=repr(error))
            return None
        log.info("snapshot.restored", snapshot=self.name, position=found[0])
        return found[0]

    async def folded(self, events: int, position: int, state: State) -> None:
        """``events`` more were folded, up to ``position``: save the view every so often.
        ``state`` (a function or a coroutine function) may say None (the view holds what is
        not in the log yet): next time, then."""
        self._since += events
        if self._since < self._every:
            return
        try:
            dumped = state()
            if inspect.isawaitable(dumped):
                dumped = await dumped
            if dumped is None:
                return
            await self._store.save_snapshot(self.name, position, dumped)
        except Exception as error:  # a cache: the next one may succeed
            log.warning("snapshot.not_saved", snapshot=self.name, error=repr(error))
            return
        self._since = 0
        log.info("snapshot.saved", snapshot=self.name, position=position)


class Folded(Protocol):
    """A view folded from a log: where it has read to, and how it is saved and restored."""

    position: int  # the global position of the last event applied; -1 for none

    def apply(self, envelope: Envelope) -> object:
        """One event, in log order; moves ``position`` on."""
        ...

    async def dump(self) -> bytes | None:
        """The state at ``position`` for a snapshot, or None (not now)."""
        ...

    def restore(self, position: int, state: bytes) -> None: ...


async def catch_up(
    store: EventStore, view: Folded, snapshots: Snapshots, *, batch: int = 1000
) -> None:
    """``view`` as the log has it now: the first time (nothing folded yet) from the latest
    snapshot on, then every event after its position."""
    if view.position == -1:
        await snapshots.restore(view.restore)
    while events := await store.read_all(view.position, batch):
        for envelope in events:
            view.apply(envelope)
        await snapshots.folded(len(events), view.position, view.dump)
        if len(events) < batch:
            return
