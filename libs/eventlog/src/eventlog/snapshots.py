"""A view folded from the whole log costs a start more the longer the log grows. A reader that
keeps one (the relay's sessions, the console watch) saves it now and then, with the position
it was folded to, and a start takes the latest and folds only what came after.

A snapshot is a cache: saving one may fail (the database away) and loading one may find a
state this code cannot read (the view changed shape); either way the reader goes on, folding
from where it is or from the start. The name carries the state's format version, so a new
shape never reads an old one."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from eventlog.store import EventStore

log = structlog.get_logger(__name__)


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

    async def folded(self, events: int, position: int, state: Callable[[], bytes | None]) -> None:
        """``events`` more were folded, up to ``position``: save the view every so often.
        ``state`` may say None (the view holds what is not in the log yet): next time, then."""
        self._since += events
        if self._since < self._every:
            return
        try:
            dumped = state()
            if dumped is None:
                return
            await self._store.save_snapshot(self.name, position, dumped)
        except Exception as error:  # a cache: the next one may succeed
            log.warning("snapshot.not_saved", snapshot=self.name, error=repr(error))
            return
        self._since = 0
        log.info("snapshot.saved", snapshot=self.name, position=position)
