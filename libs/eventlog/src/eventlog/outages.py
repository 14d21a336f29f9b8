"""Telling an outage (the database or the broker not answering) from a failure of the work
itself. An outage is waited out and answered 503 ``unavailable``; only a message that fails on
its own is dead-lettered, and only a bug is a 500."""

from __future__ import annotations

import asyncpg
from aiormq import exceptions as amqp

_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable (ConnectionError is one)
    TimeoutError,
    asyncpg.PostgresConnectionError,  # the server went or refuses connections
    asyncpg.InterfaceError,  # a connection closed under a call, a pool closing
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ConnectionFailureError,
    # a pooled connection the server's crash left in a broken protocol state ("cannot switch to
    # state 12; another operation is in progress": asyncpg #1069, sqlalchemy #13241); seen by
    # the fault suite once after the postmaster was killed
    asyncpg.InternalClientError,
    amqp.AMQPConnectionError,
    amqp.ChannelInvalidStateError,
    amqp.ConnectionClosed,
)


def is_outage(error: BaseException) -> bool:
    """The error, or one it was raised from, says the infrastructure did not answer."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _OUTAGES):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
