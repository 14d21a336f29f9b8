"""Issue 13: a large view's snapshot is dumped in turns, so the process goes on serving."""

from __future__ import annotations

import asyncio
import json

from eventlog import InMemoryEventStore
from eventlog.snapshots import Snapshots, json_array


async def turns_during(work: asyncio.Future[bytes] | asyncio.Task[bytes]) -> int:
    """How often another task got to run while ``work`` ran."""
    turns = 0
    while not work.done():
        turns += 1
        await asyncio.sleep(0)
    return turns - 1


async def test_a_json_array_is_encoded_in_turns_and_reads_back_the_same() -> None:
    rows = [{"id": n, "name": f"row {n}", "tags": ["a", "b"]} for n in range(2_250)]
    dumped = asyncio.create_task(json_array(rows, lambda r: [r["id"], r["name"], r["tags"]]))
    assert await turns_during(dumped) >= 4  # 500 rows at a time: the loop ran in between
    assert json.loads(await dumped) == [[r["id"], r["name"], r["tags"]] for r in rows]
    assert json.loads(await json_array([], str)) == []
    assert json.loads(await json_array(range(500), str)) == [str(n) for n in range(500)]


async def test_a_view_dumped_by_a_coroutine_is_saved_as_one_dumped_at_once() -> None:
    store = InMemoryEventStore()
    snapshots = Snapshots(store, "view/v1", every_events=10)

    async def dump() -> bytes:
        return await json_array(range(1_200), lambda n: n * 2)

    await snapshots.folded(9, 90, dump)
    assert await store.load_snapshot("view/v1") is None  # not yet: every 10 events
    await snapshots.folded(1, 100, dump)
    saved = await store.load_snapshot("view/v1")
    assert saved is not None and saved[0] == 100
    assert json.loads(saved[1]) == [n * 2 for n in range(1_200)]
