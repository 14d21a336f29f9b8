"""Background work that goes on through outages (issue 15.6): a turn, again and again, until
cancelled. An error in a turn (the database or the broker away, the lock lost under it) is
logged and waited out, never fatal: what one turn leaves undone, the next does. The relay, the
router, e-mail delivery, the console watch, the relay's view and the inbox's clean-up all run
so, most of them under ``lead`` (one replica at a time).

Two helpers keep a cancellation from being lost, which Python 3.11's ``asyncio.wait_for`` does
when it is cancelled in the same moment as what it waits for ends (it returns the result
instead of raising; CPython gh-86296, fixed by 3.12's rewrite on ``asyncio.timeout``): a router
cancelled so went on turning, and the stop that awaited it waited for ever (issue 18's race
test, once in CI). ``at_most`` waits with ``asyncio.timeout`` instead; ``stop`` cancels until
the work has ended, whatever swallowed a cancellation on the way."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)

STOP_AGAIN_SECONDS = 0.05


async def keep_turning(
    turn: Callable[[], Awaitable[None]],
    *,
    failed: str,
    retry_seconds: float,
    on_error: Callable[[], None] | None = None,
    **context: Any,
) -> None:
    """``turn`` until cancelled; after an error, the warning ``failed`` (with ``context`` and
    the error), ``on_error`` (the work says it is not keeping up), and ``retry_seconds`` of
    waiting before the next turn."""
    while True:
        try:
            await turn()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if on_error is not None:
                on_error()
            log.warning(failed, error=repr(error), **context)
            await asyncio.sleep(retry_seconds)


async def at_most(seconds: float, waiting: Awaitable[Any]) -> bool:
    """Wait for ``waiting``, at most ``seconds``: True if it ended in time. A cancellation
    is always raised (see the module's note)."""
    try:
        async with asyncio.timeout(seconds):
            await waiting
    except TimeoutError:
        return False
    return True


async def woken(event: asyncio.Event, seconds: float) -> None:
    """Until ``event`` is set, at most ``seconds``; always through the event loop once, as
    ``asyncio.wait_for`` did: an event set already would otherwise let a loop that reads and
    waits (a follower of the log) go round without ever letting anything else run, the
    callbacks that would end it included (it did, in the race test: a relay spinning, its
    process missing heartbeats, until killed)."""
    if event.is_set():
        await asyncio.sleep(0)
        return
    await at_most(seconds, event.wait())


async def stop(*tasks: asyncio.Task[Any], again_seconds: float = STOP_AGAIN_SECONDS) -> None:
    """Cancel each task, and again every ``again_seconds`` until it has ended (a cancellation
    swallowed once is sent again); log the error any of them ended with."""
    for task in tasks:
        task.cancel()
    for task in tasks:
        while not task.done():
            await asyncio.wait({task}, timeout=again_seconds)
            if not task.done():
                log.info("turns.cancelled_again", task=task.get_name())
                task.cancel()
        if not task.cancelled() and task.exception() is not None:
            log.info("turns.stopped_with_error", task=task.get_name(), error=repr(task.exception()))
