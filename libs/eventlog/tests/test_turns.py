"""Issue 15.6: the one loop background work runs in. A turn that fails is logged, waited out
and tried again (an outage is never fatal, and the work says meanwhile that it is behind); a
cancellation stops it at once, even in the middle of a turn."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from eventlog import at_most, keep_turning, stop
from eventlog.turns import woken

pytestmark = pytest.mark.timeout(10)


async def test_a_failing_turn_is_logged_waited_out_and_tried_again() -> None:
    turns, behind = [], []
    done = asyncio.Event()

    async def turn() -> None:
        turns.append(len(turns))
        if len(turns) <= 2:
            raise ConnectionError("the database does not answer")
        done.set()
        await asyncio.sleep(60)

    with capture_logs() as logs:
        work = asyncio.create_task(
            keep_turning(
                turn,
                failed="work.retrying",
                retry_seconds=0.01,
                on_error=lambda: behind.append(True),
                worker="w1",
            )
        )
        await asyncio.wait_for(done.wait(), 5)
        work.cancel()
        with pytest.raises(asyncio.CancelledError):
            await work
    assert turns == [0, 1, 2] and behind == [True, True]
    warned = [entry for entry in logs if entry["event"] == "work.retrying"]
    assert len(warned) == 2 and all(entry["worker"] == "w1" for entry in warned)
    assert "does not answer" in warned[0]["error"]


async def test_a_cancelled_loop_stops_in_the_middle_of_a_turn() -> None:
    began = asyncio.Event()

    async def turn() -> None:
        began.set()
        await asyncio.sleep(60)

    work = asyncio.create_task(keep_turning(turn, failed="work.retrying", retry_seconds=0.01))
    await began.wait()
    work.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(work, 1)


async def test_at_most_says_whether_it_ended_and_never_loses_a_cancellation() -> None:
    ended = asyncio.Event()
    ended.set()
    assert await at_most(1, ended.wait())
    assert not await at_most(0.01, asyncio.Event().wait())
    woken = asyncio.Event()
    waiter = asyncio.create_task(at_most(30, woken.wait()))
    await asyncio.sleep(0.01)
    woken.set()  # woken and cancelled in one moment: asyncio.wait_for returned True here
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_woken_goes_through_the_event_loop_even_when_set_already() -> None:
    ran: list[bool] = []
    woke = asyncio.Event()
    woke.set()
    asyncio.get_running_loop().call_soon(ran.append, True)
    await woken(woke, 1)
    assert ran
    started = asyncio.get_running_loop().time()
    await woken(asyncio.Event(), 0.05)
    assert asyncio.get_running_loop().time() - started >= 0.05


async def test_stop_cancels_again_until_the_work_has_ended() -> None:
    swallowed = []

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:  # as a library's lost cancellation does
                swallowed.append(True)
                if len(swallowed) == 2:
                    raise

    calm = asyncio.create_task(asyncio.sleep(60), name="calm")
    work = asyncio.create_task(stubborn(), name="stubborn")
    await asyncio.sleep(0.01)
    with capture_logs() as logs:
        await asyncio.wait_for(stop(calm, work, again_seconds=0.01), 5)
    assert calm.cancelled() and work.cancelled() and swallowed == [True, True]
    assert [entry["task"] for entry in logs if entry["event"] == "turns.cancelled_again"] == [
        "stubborn"
    ]
