"""Issue 13.7 and 13.9: the relay's view of the sessions survives a poison message and a
database outage. An envelope of an unknown type is refused before it is kept (the inbox
dead-letters it), one kept before this check is passed over by the fold, and the task that
follows the log waits an outage out instead of dying silently."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventlog import InMemoryEventStore, NewEvent
from media_relay.hub import Hub
from media_relay.journal import catch_up, follow_log, keep_session_event
from media_relay.recording import RecordingStorage
from media_relay.view import RelayView
from support_contracts import ContractViolation, Envelope
from support_testkit import eventually


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


async def test_an_unknown_event_in_the_log_does_not_stop_the_fold() -> None:
    store, session_id = InMemoryEventStore(), uuid4()
    poison = NewEvent("NoSuchEvent", {"x": 1}, uuid4(), datetime.now(UTC), uuid4(), uuid4())
    await store.append(f"session-{session_id}", [poison], None)
    await store.append(f"session-{session_id}", [_started(session_id)], None)
    view = RelayView()
    await catch_up(store, view)  # raised ContractViolation at every start before
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
    following = asyncio.create_task(follow_log(store, view, hub, retry_seconds=0.05))
    try:
        store.down = True
        await eventually(lambda: not view.following, what="the outage noticed")
        store.down = False
        session_id = uuid4()
        await store.append(f"session-{session_id}", [_started(session_id)], None)
        await eventually(lambda: view.get(session_id) is not None, what="the view goes on")
        assert view.following and not following.done()
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
