"""Issue 13: a large view's snapshot is dumped in turns, so the process goes on serving; a view
brought up to the log (``catch_up``) starts from the latest snapshot and folds what came after."""

from __future__ import annotations

import asyncio
import json

from eventlog import InMemoryEventStore
from eventlog.snapshots import Snapshots, catch_up, json_array
from support_contracts import Envelope

from .factories import new_events


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


class Labels:
    """A view: the labels of the events folded, in order."""

    def __init__(self) -> None:
        self.position, self.labels = -1, list[str]()

    def apply(self, envelope: Envelope) -> None:
        self.position = envelope.global_position
        self.labels.append(str(envelope.data["participant_id"]))

    async def dump(self) -> bytes:
        return json.dumps(self.labels).encode()

    def restore(self, position: int, state: bytes) -> None:
        self.position, self.labels = position, json.loads(state)


async def test_a_view_caught_up_starts_from_the_latest_snapshot_and_folds_what_came_after() -> None:
    store = InMemoryEventStore()
    await store.append("labels-1", new_events(25, "a"), -1)
    first = Labels()
    await catch_up(store, first, Snapshots(store, "labels/v1", every_events=10), batch=10)
    assert first.labels == [f"a{i}" for i in range(25)]
    saved = await store.load_snapshot("labels/v1")
    assert saved is not None and json.loads(saved[1]) == first.labels[:20]  # after 20 events

    marker = json.dumps(["from the snapshot"]).encode()  # as if folded to one event later
    await store.save_snapshot("labels/v1", saved[0] + 1, marker)
    await store.append("labels-1", new_events(3, "b"), 24)
    again = Labels()
    await catch_up(store, again, Snapshots(store, "labels/v1"))
    assert again.labels == [
        "from the snapshot",
        *[f"a{i}" for i in range(21, 25)],
        "b0",
        "b1",
        "b2",
    ]
    await catch_up(store, again, Snapshots(store, "labels/v1"))  # caught up: nothing again
    assert len(again.labels) == 8
