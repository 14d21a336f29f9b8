"""The streams this process read or wrote last, so that a command can skip loading them.

Safe because every append names the version it decided on: a cached stream can only be an
older prefix of the real one (the log is append-only), and if another writer moved the stream
on, the append fails with :class:`ConcurrencyConflict`; the entry is dropped and the command
loads the stream afresh and decides again. One thing the version check cannot catch is a
*refusal* decided on an older prefix (say "too many customers" when one has left since): a
handler confirms a refusal with ``load(stream_id, fresh=True)`` before returning it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from eventlog.model import ConcurrencyConflict, NewEvent
from eventlog.store import EventStore
from support_contracts import Envelope


class StreamCache:
    def __init__(self, store: EventStore, *, max_streams: int = 10_000) -> None:
        self.store = store
        self._max = max_streams
        self._streams: OrderedDict[str, list[Envelope]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    async def load(self, stream_id: str, *, fresh: bool = False) -> list[Envelope]:
        cached = None if fresh else self._streams.get(stream_id)
        if cached is not None:
            self.hits += 1
            self._streams.move_to_end(stream_id)
            return list(cached)
        self.misses += 1
        events = await self.store.read_stream(stream_id)
        self._keep(stream_id, events)
        return list(events)

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int
    ) -> list[Envelope]:
        try:
            written = await self.store.append(stream_id, events, expected_version)
        except ConcurrencyConflict:
            self._streams.pop(stream_id, None)
            raise
        cached = self._streams.get(stream_id)
        if cached is not None and len(cached) - 1 == expected_version:
            cached.extend(written)
            self._streams.move_to_end(stream_id)
        else:
            self._streams.pop(stream_id, None)  # nothing cached to extend: load it next time
        return written

    def _keep(self, stream_id: str, events: list[Envelope]) -> None:
        self._streams[stream_id] = list(events)
        self._streams.move_to_end(stream_id)
        while len(self._streams) > self._max:
            self._streams.popitem(last=False)
