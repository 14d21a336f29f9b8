"""Work that one replica at a time does (the outbox relay, the console watch, e-mail
delivery, the router): run while holding the log's exclusive lock, and when the lock is lost
(its connection went) or cannot be taken (the database does not answer), wait and take it again.

The work runs as a task of its own, watched against the lease: the moment the lock is lost the
work is cancelled, and cancelled again until it has ended, so a loop that swallows errors (or a
cancellation that a library turned into one) cannot go on beside the next holder. Only then is
the lock contended for again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from eventlog.model import Lease, LockLost
from eventlog.store import EventStore
from eventlog.turns import stop

log = structlog.get_logger(__name__)


async def lead(
    store: EventStore,
    name: str,
    work: Callable[[], Awaitable[None]],
    *,
    retry_seconds: float = 1.0,
    poll_seconds: float = 1.0,
) -> None:
    """``work`` under the lock ``name``, until it returns or the caller is cancelled."""
    while True:
        try:
            async with store.exclusive(name, poll_seconds) as lease:
                await _under(lease, work)
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the lock lost, or the database not answering
            log.warning("eventlog.lead_lost", lock=name, error=repr(error))
            await asyncio.sleep(retry_seconds)


async def _under(lease: Lease, work: Callable[[], Awaitable[None]]) -> None:
    async def working() -> None:
        await work()

    # leading .. lead_ended: the fault suite checks from these lines that no two overlap
    log.info("eventlog.leading", lock=lease.name)
    task = asyncio.create_task(working(), name=f"lead:{lease.name}")
    lost = asyncio.create_task(lease.lost.wait())
    try:
        try:
            await asyncio.wait({task, lost}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await stop(task)
            raise
        finally:
            lost.cancel()
        if task.done():
            task.result()  # the work's own end, or its error
            return
        await stop(task)
        raise LockLost(f"{lease.name}: its connection was lost")
    finally:
        log.info("eventlog.lead_ended", lock=lease.name)
