"""Wait for a condition by polling it until a deadline; never sleep a guessed time."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], T | Awaitable[T]],
    *,
    within: float = 10.0,
    interval: float = 0.01,
    what: str = "the condition",
) -> T:
    """Poll ``check`` until it returns something truthy and return that; fail after
    ``within`` seconds with ``what`` in the message."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {within} s (last: {result!r})")
        await asyncio.sleep(interval)


async def stopped(*tasks: asyncio.Task[object]) -> None:
    """Cancel background tasks and wait until they have finished their clean-up."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
