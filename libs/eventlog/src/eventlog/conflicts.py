"""A write that lost a race is retried in a fresh transaction, which reads the new state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from eventlog.model import ConcurrencyConflict
from eventlog.store import EventStore, Transaction

T = TypeVar("T")


async def retrying(
    store: EventStore, work: Callable[[Transaction], Awaitable[T]], *, attempts: int = 8
) -> T:
    """``work`` in a transaction of its own, again while another writer got there first; the
    last conflict is raised."""
    for attempt in range(1, attempts + 1):
        try:
            async with store.transaction() as tx:
                return await work(tx)
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")
