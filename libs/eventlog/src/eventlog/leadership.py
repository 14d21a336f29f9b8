"""Work that one replica at a time does (the outbox relay, the console watch, e-mail
delivery, the router): run while holding the log's exclusive lock, and when the lock is lost
(its connection went) or cannot be taken (the database does not answer), wait and take it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from eventlog.store import EventStore

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
            async with store.exclusive(name, poll_seconds):
                await work()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the lock lost, or the database not answering
            log.warning("eventlog.lead_lost", lock=name, error=repr(error))
            await asyncio.sleep(retry_seconds)
