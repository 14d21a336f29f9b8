"""Event logs for tests that must see how much a reader read."""

from __future__ import annotations

from eventlog import InMemoryEventStore
from support_contracts import Envelope


class CountingStore(InMemoryEventStore):
    """The in-memory log, counting the events ``read_all`` handed out (``read``)."""

    read = 0

    async def read_all(self, after_position: int = -1, limit: int = 1000) -> list[Envelope]:
        events = await super().read_all(after_position, limit)
        self.read += len(events)
        return events
