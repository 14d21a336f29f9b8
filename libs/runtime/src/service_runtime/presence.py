"""S4: a heartbeat *or an open live connection* keeps the controller's console present. The
gateway (a staff member's live stream) and the relay (the controller's socket) beat for the
connection while it is open; session-svc records a beat only from the session's controller and
at most every third of the grace period, so a beat from anyone else changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog

from support_contracts.session import SiteSettings

log = structlog.get_logger(__name__)

BEATS_PER_GRACE = 4  # a recorded beat is at most grace/3 old when the next one is due


def beat_every(site: SiteSettings) -> float:
    """Seconds between beats for the site settings' ``console_grace_seconds``."""
    return site.console_grace_seconds / BEATS_PER_GRACE


async def keep_present(beat: Callable[[], Awaitable[object]], every_seconds: float) -> None:
    """Beat until cancelled (the connection closed). A beat refused (not the controller now) or
    not answered (session-svc away) is tried again at the next one."""
    while True:
        try:
            await beat()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.debug("presence.beat_not_recorded", error=repr(error))
        await asyncio.sleep(every_seconds)
