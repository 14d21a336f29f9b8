"""S4 with a fake clock: a console gone past the grace period ends the session with reason
console_closed, after a restart too, and never twice when two watches sweep at once."""

from __future__ import annotations

import asyncio
from uuid import UUID

from eventlog import EventStore
from session_svc.console_watch import ConsoleWatch
from session_svc.writing import SessionLog, session_stream
from support_contracts.session import EndSession, RecordHeartbeat
from support_testkit import eventually
from support_testkit.clock import FakeClock

from ..unit.story import T0, command
from .test_writing import execute, start


async def ended_reasons(store: EventStore, session_id: UUID) -> list[str]:
    events = await store.read_stream(session_stream(session_id))
    return [e.data["reason"] for e in events if e.type == "SessionEnded"]


async def test_s4_the_console_gone_past_the_grace_period_ends_the_session(
    store: EventStore,
) -> None:
    clock = FakeClock(T0)  # default grace: 60 s
    h = SessionLog(store, clock=clock.now)
    kept = UUID((await start(h, "alice"))["session_id"])
    lapsing = UUID((await start(h, "carol"))["session_id"])
    watch = ConsoleWatch(h)
    clock.advance(40)
    await execute(h, command(RecordHeartbeat, "alice", session_id=kept))
    clock.advance(21)  # carol's console: 61 s unseen; alice's: 21 s
    assert await watch.sweep() == [lapsing]
    assert await ended_reasons(store, lapsing) == ["console_closed"]
    assert await ended_reasons(store, kept) == []
    clock.advance(50)  # alice: 71 s since her last recorded heartbeat
    assert await watch.sweep() == [kept]


async def a_session(store: EventStore) -> tuple[FakeClock, SessionLog, UUID]:
    """A live session started at T0, on a fake clock (default grace: 60 s)."""
    clock = FakeClock(T0)
    h = SessionLog(store, clock=clock.now)
    return clock, h, UUID((await start(h))["session_id"])


async def test_s4_a_restarted_watch_forgets_no_session(store: EventStore) -> None:
    clock, h, session = await a_session(store)
    clock.advance(30)
    assert await ConsoleWatch(h).sweep() == []  # the first watch goes away here
    clock.advance(31)
    again = ConsoleWatch(SessionLog(store, clock=clock.now))  # a new process, from the log
    assert await again.sweep() == [session]


async def test_s4_two_watches_sweeping_at_once_end_a_session_once(store: EventStore) -> None:
    clock, h, session = await a_session(store)
    clock.advance(61)
    other = SessionLog(store, clock=clock.now)  # another replica
    first, second = await asyncio.gather(ConsoleWatch(h).sweep(), ConsoleWatch(other).sweep())
    assert sorted([*first, *second]) == [session]
    assert await ended_reasons(store, session) == ["console_closed"]


async def test_s4_a_watch_restarted_from_its_snapshot_forgets_no_session(
    store: EventStore,
) -> None:
    """Issue 13 (scale): the view of live sessions the watch sweeps is snapshotted, and a new
    process starts from it."""
    clock = FakeClock(T0)
    h = SessionLog(store, clock=clock.now, snapshot_every=1)
    sessions = [UUID((await start(h, f"csr-{n}"))["session_id"]) for n in range(3)]

    async def seen_all(log: SessionLog, count: int) -> bool:
        await (
            log.sessions.catch_up()
        )  # the log reads only what no running transaction could precede
        return len(log.sessions.live()) == count

    await eventually(lambda: seen_all(h, 3), what="the three sessions seen")
    saved = await store.load_snapshot("live-sessions/v1")
    assert saved is not None and saved[0] == h.sessions.position
    await execute(h, command(EndSession, "csr-0", session_id=sessions[0]))
    clock.advance(61)
    again = SessionLog(store, clock=clock.now)
    await eventually(lambda: seen_all(again, 2), what="the two live sessions seen")
    seen = {s.id: s.console_seen_at for s in again.sessions.live()}
    assert seen == {s: h.sessions.rows[s].session.console_seen_at for s in sessions[1:]}
    assert sorted(await ConsoleWatch(again).sweep()) == sorted(sessions[1:])
