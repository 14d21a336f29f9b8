"""Issue 15.6: the one loop background work runs in. A turn that fails is logged, waited out
and tried again (an outage is never fatal, and the work says meanwhile that it is behind); a
cancellation stops it at once, even in the middle of a turn."""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from eventlog import keep_turning

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
