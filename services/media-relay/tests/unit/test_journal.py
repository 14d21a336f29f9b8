"""Issue 13.7, 13.9 and 13 (scale): the relay's view of the sessions survives a poison message
and a database outage, and a start does not fold the whole log. An envelope of an unknown type
is refused before it is kept (the inbox dead-letters it), one kept before this check is passed
over by the fold, the task that follows the log waits an outage out instead of dying silently,
and the view is snapshotted so that a start folds only what came after."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventlog import InMemoryEventStore, NewEvent, StreamState
from eventlog.snapshots import catch_up
from media_relay.domain.state import evolve
from media_relay.hub import Hub
from media_relay.journal import follow_log, history, keep_session_event, snapshots
from media_relay.recording import RecordingStorage
from media_relay.view import RelayView
from support_contracts import ContractViolation, Envelope
from support_contracts.topology import RELAY_FOLLOWS, SUBSCRIPTIONS
from support_testkit import eventually
from support_testkit.stores import CountingStore


def _envelope(session_id: UUID, kind: str, data: dict[str, Any], version: int = 0) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": str(uuid4()),
            "type": kind,
            "schema_version": 1,
            "stream_id": f"session-{session_id}",
            "stream_version": version,
            "global_position": version + 1,
            "occurred_at": "2026-12-02T12:00:00.000000Z",
            "correlation_id": str(uuid4()),
            "causation_id": str(uuid4()),
            "data": data,
        }
    )


def _started(session_id: UUID) -> NewEvent:
    return NewEvent(
        type="SessionStarted",
        data={
            "session_id": str(session_id),
            "session_number": "123456789",
            "csr_id": "alice",
            "csr_name": "Alice",
            "email_invite": False,
        },
        event_id=uuid4(),
        occurred_at=datetime.now(UTC),
        correlation_id=uuid4(),
        causation_id=uuid4(),
    )


async def test_an_unknown_event_is_refused_before_it_is_kept() -> None:
    store = InMemoryEventStore()
    poison = _envelope(uuid4(), "NoSuchEvent", {"x": 1})
    with pytest.raises(ContractViolation):
        async with store.transaction() as tx:
            await keep_session_event(poison, tx)
    assert await store.read_all() == []


async def test_m3_the_relay_follows_and_keeps_only_what_its_view_folds() -> None:
    """Issue 19: the relay's queue is bound to the session events its view folds, no more (the
    csrs' ledgers, the numbers, the settings and heartbeats were more than half of what it was
    sent); one that still arrives (a queue bound by an older relay) is not kept."""
    folded = {kind for kind in evolve.registry if kind is not object}
    assert folded == set(RELAY_FOLLOWS)
    bound = SUBSCRIPTIONS["media-relay"].routing_keys
    assert sorted(bound) == sorted(kind.routing_key() for kind in RELAY_FOLLOWS)
    store = InMemoryEventStore()
    session_id = uuid4()
    heartbeat = _envelope(session_id, "ConsoleSeen", {"csr_id": "alice"})
    async with store.transaction() as tx:
        await keep_session_event(heartbeat, tx)
        await keep_session_event(
            _envelope(session_id, "SessionStarted", _started(session_id).data), tx
        )
    assert [e.type for e in await store.read_all()] == ["SessionStarted"]


async def test_an_unknown_event_in_the_log_does_not_stop_the_fold() -> None:
    store, session_id = InMemoryEventStore(), uuid4()
    poison = NewEvent("NoSuchEvent", {"x": 1}, uuid4(), datetime.now(UTC), uuid4(), uuid4())
    await store.append(f"session-{session_id}", [poison], StreamState.ANY)
    await store.append(f"session-{session_id}", [_started(session_id)], StreamState.ANY)
    view = RelayView()
    await catch_up(store, view, snapshots(store))  # raised ContractViolation at every start
    session = view.get(session_id)
    assert session is not None and session.version == 1


class Outage(InMemoryEventStore):
    """A log whose reads fail while ``down`` (a database outage)."""

    down = False

    async def read_all(self, after_position: int = -1, limit: int = 1000) -> list[Envelope]:
        if self.down:
            raise ConnectionRefusedError(111, "the database does not answer")
        return await super().read_all(after_position, limit)


async def test_following_the_log_waits_an_outage_out(tmp_path: Path) -> None:
    store, view = Outage(), RelayView()

    async def stored(manifest: dict[str, Any]) -> None: ...

    hub = Hub(view, RecordingStorage(tmp_path), stored)
    following = asyncio.create_task(
        follow_log(store, view, hub, snapshots(store), retry_seconds=0.05)
    )
    try:
        store.down = True
        await eventually(lambda: not view.following, what="the outage noticed")
        store.down = False
        session_id = uuid4()
        await store.append(f"session-{session_id}", [_started(session_id)], StreamState.ANY)
        await eventually(lambda: view.get(session_id) is not None, what="the view goes on")
        assert view.following and not following.done()
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)


def _event(event_type: str, **data: Any) -> NewEvent:
    return NewEvent(event_type, data, uuid4(), datetime.now(UTC), uuid4(), uuid4())


async def _sessions(store: InMemoryEventStore, count: int) -> None:
    """Sessions with a customer, an assistant and a chat; every third one ended."""
    for n in range(count):
        sid, chat = uuid4(), uuid4()
        events = [
            _started(sid),
            _event("CustomerJoined", participant_id=f"c{n}", name="Cy", via="session_number"),
            _event("AssistantJoined", csr_id=f"h{n}", name="Hal", via="session_number"),
            _event("ActivityStarted", activity_id=str(chat), kind="chat", started_by="alice"),
        ]
        if n % 3 == 0:
            events.append(_event("SessionEnded", reason="ended_by_controller", ended_by="alice"))
        await store.append(f"session-{sid}", events, StreamState.ANY)


async def test_a_start_folds_only_what_came_after_the_latest_snapshot() -> None:
    store = CountingStore()
    await _sessions(store, 30)  # 110 events
    first = RelayView()
    await catch_up(store, first, snapshots(store, every_events=50))
    position, _ = await store.load_snapshot("relay-view/v1") or (None, b"")
    assert position == first.position  # saved as the catch-up went (its one batch here)
    await _sessions(store, 3)
    store.read = 0
    again, folded = RelayView(), RelayView()
    await catch_up(store, again, snapshots(store, every_events=50))
    assert 0 < store.read < 60  # from the snapshot on, not the whole log of 121 events
    await catch_up(store, folded, snapshots(InMemoryEventStore()))  # no snapshot: everything
    assert again.sessions == folded.sessions and again.position == folded.position
    assert any(s.activities and s.participants for s in again.sessions.values())


async def test_a_snapshot_that_cannot_be_read_is_passed_over() -> None:
    store = InMemoryEventStore()
    await _sessions(store, 4)
    await store.save_snapshot("relay-view/v1", 3, b"not the shape of a view")
    view = RelayView()
    await catch_up(store, view, snapshots(store))
    assert len(view.sessions) == 4  # folded from the start


def _ended() -> NewEvent:
    return NewEvent("SessionEnded", {"reason": "ended_by_controller", "ended_by": "alice"},
                    uuid4(), datetime.now(UTC), uuid4(), uuid4())  # fmt: skip


async def test_the_view_keeps_only_the_last_ended_sessions_and_the_log_has_the_rest() -> None:
    """Issue 13: the view grew with every session ever held. It keeps the live ones and the
    last ``keep_ended`` that ended (a snapshot too); an older one is folded from the log when
    asked for, with its last controller (who may read its recordings)."""
    store, view = InMemoryEventStore(), RelayView(keep_ended=2)
    live, *ended = [uuid4() for _ in range(4)]
    await store.append(f"session-{live}", [_started(live)], StreamState.ANY)
    for session_id in ended:
        await store.append(
            f"session-{session_id}", [_started(session_id), _ended()], StreamState.ANY
        )
    for envelope in await store.read_all():
        view.apply(envelope)
    assert set(view.sessions) == {live, *ended[1:]}  # the first to end went
    again = RelayView(keep_ended=2)
    again.restore(view.position, await view.dump())
    await store.append(f"session-{live}", [_ended()], 0)
    for envelope in await store.read_all(view.position):
        again.apply(envelope)
    assert set(again.sessions) == {ended[2], live}  # the restored order of ending held
    gone = await history(store, ended[0])
    assert gone is not None and (gone.status.value, gone.last_controller) == ("ended", "alice")
    assert await history(store, uuid4()) is None


async def test_the_views_snapshot_is_dumped_in_turns_and_restores_the_same_sessions() -> None:
    """Issue 13: 20,000 sessions took 155 ms to dump at once, and every WebSocket of the relay
    waited that long; the dump now lets them run in between, and restores the same view."""
    store, view = InMemoryEventStore(), RelayView()
    for _ in range(3_000):
        session_id = uuid4()
        await store.append(f"session-{session_id}", [_started(session_id)], StreamState.ANY)
    for envelope in await store.read_all(limit=10_000):
        view.apply(envelope)
    dumping = asyncio.create_task(view.dump())
    turns = 0
    while not dumping.done():
        turns += 1
        await asyncio.sleep(0)
    assert turns > 5  # 500 sessions at a time
    again = RelayView()
    again.restore(view.position, await dumping)
    assert again.sessions == view.sessions and len(again.sessions) == 3_000
