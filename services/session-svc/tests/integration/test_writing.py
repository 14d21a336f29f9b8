"""The recipe against the real log (and its in-memory twin): what is recorded, what is refused
and leaves nothing behind, and races between replicas (S1, S2, S5, S12)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from eventlog import EventStore
from eventlog.postgres import PostgresEventStore
from session_svc.domain import NotAllowed, StateForbids
from session_svc.domain.settings import DEFAULT_SITE, csr_stream
from session_svc.handlers import HANDLERS
from session_svc.writing import SessionLog, number_stream
from support_contracts.session import (
    AmendCsrSettings,
    AssignAgent,
    ChangeCsrSettings,
    ChangeSiteSettings,
    CsrSettings,
    EndSession,
    GetSessionEvents,
    HandOffToQueue,
    JoinAsAssistant,
    JoinAsCustomer,
    Leave,
    StartSession,
    TransferControl,
)
from support_contracts.vocabulary import SessionMode
from support_testkit.plugin import fresh_schema

from ..unit.story import command


def numbers(*fixed: str) -> Iterator[str]:
    yield from fixed
    n = 200_000_000
    while True:
        n += 1
        yield str(n)


def handlers(store: EventStore, *fixed: str) -> SessionLog:
    chosen = numbers(*fixed)
    return SessionLog(store, new_number=lambda: next(chosen))


async def execute(h: SessionLog, cmd: Any) -> dict[str, Any]:
    """The reply as it goes on the wire (the command door's dump of the reply model)."""
    return (await HANDLERS[type(cmd)](h, cmd)).model_dump(mode="json")


async def start(h: SessionLog, csr: str = "alice") -> dict[str, Any]:
    reply = await execute(h, command(StartSession, csr, csr_id=csr, csr_name=csr.title()))
    session: dict[str, Any] = reply["session"]
    return session


async def run(h: SessionLog, kind: Any, actor: str | None, **fields: Any) -> dict[str, Any]:
    return await execute(h, command(kind, actor, **fields))


async def test_s1_start_records_the_session_reserves_its_number_and_gains_control(
    store: EventStore,
) -> None:
    h = handlers(store, "123456789")
    session = await start(h)
    assert session["session_number"] == "123456789"
    assert session["session_number_display"] == "123 456 789"
    assert (session["status"], session["controller"]) == ("live", "alice")
    assert [e.type for e in await store.read_stream(number_stream("123456789"))] == [
        "NumberReserved"
    ]
    assert [e.type for e in await store.read_stream(csr_stream("alice"))] == ["ControlGained"]
    found = await h.session_by_number("123456789")
    assert str(found.id) == session["session_id"]


async def test_s1_a_live_number_is_never_given_twice_and_is_free_again_after_the_end(
    store: EventStore,
) -> None:
    h = handlers(store, "111111111", "111111111", "222222222", "111111111")
    first = await start(h, "alice")
    second = await start(h, "carol")  # drew 111111111 again, which is taken: takes the next
    assert (first["session_number"], second["session_number"]) == ("111111111", "222222222")
    await run(h, EndSession, "alice", session_id=UUID(first["session_id"]))
    with pytest.raises(StateForbids, match="has ended") as ended:  # issue 14.8
        await h.session_by_number("111111111")
    assert ended.value.code == "session_ended"
    third = await start(h, "dave")
    assert third["session_number"] == "111111111"
    assert str((await h.session_by_number("111111111")).id) == third["session_id"]
    with pytest.raises(Exception, match="no live session has that number"):
        await h.session_by_number("999999999")


async def test_s2_a_refused_start_records_nothing(store: EventStore) -> None:
    h = handlers(store)
    await start(h)
    before = await store.read_all()
    with pytest.raises(StateForbids, match="already run a live session"):
        await start(h)
    assert await store.read_all() == before


async def test_s2_multi_session_mode_from_site_and_csr_settings(store: EventStore) -> None:
    h = handlers(store)
    site = DEFAULT_SITE.model_copy(
        update={"multi_session_allowed": True, "max_sessions_per_csr": 2}
    )
    await run(h, ChangeSiteSettings, "admin", settings=site)
    multi = CsrSettings(session_mode=SessionMode.MULTI, is_webacd_agent=False, voice_supported=True)
    await run(h, ChangeCsrSettings, "admin", csr_id="alice", settings=multi)
    await start(h)
    await start(h)
    with pytest.raises(StateForbids, match="2 live sessions"):
        await start(h)


async def test_the_whole_story_keeps_the_ledger_and_numbers_right(store: EventStore) -> None:
    h = handlers(store, "333333333")
    agent = CsrSettings(session_mode=SessionMode.SINGLE, is_webacd_agent=True, voice_supported=True)
    await run(h, ChangeCsrSettings, "admin", csr_id="carol", settings=agent)
    session = await start(h, "alice")
    sid = UUID(session["session_id"])
    joined = await run(h, JoinAsCustomer, None, session_number="333333333", name="Bob")
    assert joined["session"]["active_customer"] == joined["participant_id"]
    await run(h, JoinAsAssistant, "carol", session_id=sid, csr_id="carol", name="Carol")
    moved = await run(h, TransferControl, "alice", session_id=sid, to_csr="carol")
    assert moved["session"]["controller"] == "carol"
    waiting = await run(
        h, HandOffToQueue, "carol", session_id=sid, queue_id=UUID(int=7), message="x" * 345
    )
    assert (waiting["session"]["status"], waiting["session"]["controller"]) == ("waiting", None)
    taken = await run(
        h,
        AssignAgent,
        "routing",
        session_id=sid,
        agent_id="dave",
        agent_name="Dave",
        offer_id=UUID(int=9),
    )
    assert taken["session"]["controller"] == "dave"
    await run(h, EndSession, "dave", session_id=sid)
    ledgers = {
        c: [e.type for e in await store.read_stream(csr_stream(c))]
        for c in ("alice", "carol", "dave")
    }
    assert ledgers == {
        "alice": ["ControlGained", "ControlReleased"],
        "carol": ["CsrSettingsChanged", "ControlGained", "ControlReleased"],
        "dave": ["ControlGained", "ControlReleased"],
    }
    assert [e.type for e in await store.read_stream(number_stream("333333333"))] == [
        "NumberReserved",
        "NumberReleased",
    ]
    events = (await run(h, GetSessionEvents, "alice", session_id=sid))["events"]
    assert [e["stream_version"] for e in events] == list(range(len(events)))
    assert events[-1]["type"] == "SessionEnded"


async def test_refusals_leave_the_log_as_it_was(store: EventStore) -> None:
    h = handlers(store)
    sid = UUID((await start(h))["session_id"])
    before = await store.read_all()
    with pytest.raises(NotAllowed):
        await run(h, Leave, "mallory", session_id=sid, participant_id="alice")
    with pytest.raises(NotAllowed):
        await run(h, EndSession, "mallory", session_id=sid)
    assert await store.read_all() == before


pytestmark = pytest.mark.integration


async def replicas(database_url: str, schema: str, count: int) -> list[SessionLog]:
    stores = [await PostgresEventStore.connect(database_url, schema) for _ in range(count)]
    return [handlers(s) for s in stores]


async def test_s2_two_starts_by_one_csr_racing_on_two_replicas_give_one_session(
    database_url: str,
) -> None:
    async with fresh_schema(database_url) as schema:
        a, b = await replicas(database_url, schema, 2)
        for round_no in range(10):
            csr = f"csr-{round_no}"
            results = await asyncio.gather(start(a, csr), start(b, csr), return_exceptions=True)
            started = [r for r in results if isinstance(r, dict)]
            refused = [r for r in results if isinstance(r, StateForbids)]
            assert (len(started), len(refused)) == (1, 1), results
            ledger = await a.store.read_stream(csr_stream(csr))
            assert [e.type for e in ledger] == ["ControlGained"]
        for h in (a, b):
            await h.store.close()


async def test_two_replicas_racing_joins_at_the_customer_limit_let_one_in(
    database_url: str,
) -> None:
    async with fresh_schema(database_url) as schema:
        a, b = await replicas(database_url, schema, 2)
        one = DEFAULT_SITE.model_copy(update={"max_customers_per_session": 1})
        await run(a, ChangeSiteSettings, "admin", settings=one)
        for round_no in range(10):
            sid = UUID((await start(a, f"csr-{round_no}"))["session_id"])
            joins = [
                run(h, JoinAsCustomer, None, session_id=sid, name=n)
                for h, n in ((a, "Bob"), (b, "Dana"))
            ]
            results = await asyncio.gather(*joins, return_exceptions=True)
            refused = [r for r in results if isinstance(r, StateForbids)]
            assert len(refused) == 1 and refused[0].code == "customer_limit", results
            state = await a.session(sid)
            assert len(state.customers()) == 1
        for h in (a, b):
            await h.store.close()


async def test_a_command_delivered_twice_is_applied_once_and_answered_alike(
    store: EventStore,
) -> None:
    """Issue 13.2: a replica that died between its commit and its ack had the command run again
    by another replica: two SessionStarted, two customers. Now the second delivery changes
    nothing and gets the first one's answer."""
    h = handlers(store)
    starting = command(StartSession, "alice", csr_id="alice", csr_name="Alice")
    first = await execute(h, starting)
    again = await execute(SessionLog(store), starting)  # another replica
    assert again["session"]["session_id"] == first["session"]["session_id"]
    session_id = UUID(first["session"]["session_id"])
    joining = command(JoinAsCustomer, None, session_id=session_id, name="Carol")
    joined = await execute(h, joining)
    rejoined = await execute(h, joining)
    assert rejoined["participant_id"] == joined["participant_id"]
    types = [e.type for e in await store.read_stream(f"session-{session_id}")]
    assert types.count("SessionStarted") == 1
    assert types.count("CustomerJoined") == 1
    ending = command(EndSession, "alice", session_id=session_id)
    await execute(h, ending)
    assert (await execute(h, ending))["session"]["status"] == "ended"  # not refused


async def test_s9_making_a_csr_an_agent_keeps_the_settings_it_does_not_name(
    store: EventStore,
) -> None:
    """Issue 14.3: the admin's agent set-up made a multi-session csr single again."""
    h = SessionLog(store)
    multi = {"session_mode": "multi", "is_webacd_agent": False, "voice_supported": False}
    await execute(h, command(ChangeCsrSettings, "root", csr_id="ann", settings=multi))
    amended = await execute(
        h, command(AmendCsrSettings, "root", csr_id="ann", is_webacd_agent=True)
    )
    assert amended["settings"] == {**multi, "is_webacd_agent": True}
    again = await execute(h, command(AmendCsrSettings, "root", csr_id="ann", is_webacd_agent=True))
    assert again == amended
    changes = await store.read_stream(csr_stream("ann"))
    assert len(changes) == 2  # nothing recorded when nothing changes
    fresh = await execute(h, command(AmendCsrSettings, "root", csr_id="new", is_webacd_agent=True))
    assert fresh["settings"] == {"session_mode": "single", "is_webacd_agent": True,
                                 "voice_supported": True}  # fmt: skip
