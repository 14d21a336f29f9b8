"""The stream cache never lets a command commit on stale state (foundation item 9's cache)."""

from __future__ import annotations

import pytest

from eventlog import NO_STREAM, ConcurrencyConflict, EventStore
from eventlog.stream_cache import StreamCache

from .factories import new_events


async def test_loads_once_then_serves_and_extends_from_memory(store: EventStore) -> None:
    cache = StreamCache(store)
    assert await cache.load("session-a") == []
    await cache.append("session-a", new_events(2), NO_STREAM)
    await cache.append("session-a", new_events(1), 1)
    loaded = await cache.load("session-a")
    assert [e.stream_version for e in loaded] == [0, 1, 2]
    assert (cache.hits, cache.misses) == (1, 1)
    assert [e.event_id for e in loaded] == [
        e.event_id for e in await store.read_stream("session-a")
    ]


async def test_a_stale_entry_cannot_commit_and_is_dropped(store: EventStore) -> None:
    cache = StreamCache(store)
    await cache.append("session-a", new_events(1), NO_STREAM)
    stale = await cache.load("session-a")
    await store.append("session-a", new_events(1), 0)  # another replica moves the stream on
    assert len(await cache.load("session-a")) == 1  # still the older prefix ...
    with pytest.raises(ConcurrencyConflict):
        await cache.append("session-a", new_events(1), len(stale) - 1)  # ... which cannot commit
    assert len(await cache.load("session-a")) == 2  # reloaded after the conflict
    assert len(await cache.load("session-a", fresh=True)) == 2


async def test_keeps_at_most_max_streams(store: EventStore) -> None:
    cache = StreamCache(store, max_streams=2)
    for name in "abc":
        await cache.load(f"session-{name}")
    await cache.load("session-a")
    assert cache.misses == 4  # a was evicted when c came in
