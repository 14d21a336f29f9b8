"""R17 against the real log (and its in-memory twin): a supervisor's list of the sessions not
ended, read right after the commands that changed them, and a take-over: the supervisor
controls, the ledgers follow (S2), the console watch counts from the take-over (S4)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from eventlog import EventStore
from session_svc.console_watch import ConsoleWatch
from session_svc.domain import StateForbids
from session_svc.domain.settings import csr_stream
from session_svc.writing import SessionLog
from support_contracts.session import (
    AmendCsrSettings,
    EndSession,
    HandOffToQueue,
    JoinAsCustomer,
    ListSessions,
    TakeOverSession,
)
from support_testkit.clock import FakeClock

from ..unit.story import T0
from .test_writing import run, start


async def listed(h: SessionLog, status: str | None = None) -> list[dict[str, object]]:
    sessions: list[dict[str, object]] = (await run(h, ListSessions, "sue", status=status))[
        "sessions"
    ]
    return sessions


async def test_r17_a_supervisor_lists_every_session_not_ended_live_and_waiting(
    store: EventStore,
) -> None:
    clock = FakeClock(T0)
    h = SessionLog(store, clock=clock.now)
    await run(h, AmendCsrSettings, "root", csr_id="carol", is_webacd_agent=True)
    alice = await start(h, "alice")
    await run(h, JoinAsCustomer, None, session_id=UUID(alice["session_id"]), name="Bob")
    carol = await start(h, "carol")
    dave = await start(h, "dave")
    await run(h, EndSession, "dave", session_id=UUID(dave["session_id"]))
    handed = {"session_id": UUID(carol["session_id"]), "queue_id": uuid4()}
    await run(h, HandOffToQueue, "carol", **handed)

    rows = await listed(h)  # right after the commands: the list catches up first
    assert [(r["session_id"], r["status"]) for r in rows] == [
        (alice["session_id"], "live"),
        (carol["session_id"], "waiting"),
    ]
    first = rows[0]
    assert (first["controller"], first["controller_name"]) == ("alice", "Alice")
    assert first["session_number_display"] == alice["session_number_display"]
    assert [(p["name"], p["role"]) for p in first["participants"]] == [  # type: ignore[attr-defined]
        ("Alice", "controller"),
        ("Bob", "customer"),
    ]
    assert first["started_at"] == first["console_seen_at"] == T0.isoformat().replace("+00:00", "Z")
    assert rows[1]["controller"] is None and rows[1]["participants"] == []
    assert [r["session_id"] for r in await listed(h, "waiting")] == [carol["session_id"]]
    assert [r["session_id"] for r in await listed(h, "live")] == [alice["session_id"]]


async def test_r17_a_supervisor_takes_over_and_must_keep_the_console_from_then_on(
    store: EventStore,
) -> None:
    clock = FakeClock(T0)  # default grace: 60 s
    h = SessionLog(store, clock=clock.now)
    alice = await start(h, "alice")
    sid = UUID(alice["session_id"])
    clock.advance(50)
    taken = await run(
        h, TakeOverSession, "sue", session_id=sid, supervisor_id="sue", supervisor_name="Sue"
    )
    assert taken["session"]["controller"] == "sue"
    roles = {p["id"]: p["role"] for p in taken["session"]["participants"]}
    assert roles == {"alice": "assistant", "sue": "controller"}
    assert [e.type for e in await store.read_stream(csr_stream("sue"))] == ["ControlGained"]
    assert [e.type for e in await store.read_stream(csr_stream("alice"))] == [
        "ControlGained",
        "ControlReleased",
    ]
    (row,) = await listed(h)
    assert (row["controller"], row["controller_name"]) == ("sue", "Sue")

    clock.advance(20)  # 70 s after the start, 20 s after the take-over: not lapsed
    assert await ConsoleWatch(h).sweep() == []
    clock.advance(41)  # 61 s since the supervisor's console was seen
    assert await ConsoleWatch(h).sweep() == [sid]
    assert await listed(h) == []
    with pytest.raises(StateForbids, match="has ended"):
        await run(
            h, TakeOverSession, "sue", session_id=sid, supervisor_id="sue", supervisor_name="Sue"
        )
