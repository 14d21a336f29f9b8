"""A write that lost a race is tried again: it reads the new state (in a fresh transaction,
``retrying``, or as one read and one append, ``again``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from eventlog.model import ConcurrencyConflict
from eventlog.store import EventStore, Transaction

T = TypeVar("T")


async def again(work: Callable[[], Awaitable[T]], *, attempts: int = 8) -> T:
    """``work``, again while another writer got there first; the last conflict is raised."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


async def retrying(
    store: EventStore,
    work: Callable[[Transaction], Awaitable[T]],
    *,
    attempts: int = 8,
    decision: bool = False,
) -> T:
    """``work`` in a transaction of its own (``decision``: in ``store.decision()``, for work
    that writes once, last), again while another writer got there first; the last conflict
    is raised."""

    async def in_transaction() -> T:
        async with store.decision() if decision else store.transaction() as tx:
            return await work(tx)

    return await again(in_transaction, attempts=attempts)
