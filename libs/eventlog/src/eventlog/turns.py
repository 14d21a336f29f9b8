"""Background work that goes on through outages (issue 15.6): a turn, again and again, until
cancelled. An error in a turn (the database or the broker away, the lock lost under it) is
logged and waited out, never fatal: what one turn leaves undone, the next does. The relay, the
router, e-mail delivery, the console watch, the relay's view and the inbox's clean-up all run
so, most of them under ``lead`` (one replica at a time)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

log = structlog.get_logger(__name__)


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
