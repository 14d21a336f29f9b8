"""The log's exclusive locks (``PostgresEventStore.exclusive``), seen from PostgreSQL: which
connection holds one, so a test can cut it (a failover, a network cut)."""

from __future__ import annotations

import asyncpg

HOLDERS = """
    SELECT l.pid FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.objid::bigint = (hashtext($1)::bigint & 4294967295)
      AND l.classid::bigint = ((hashtext($1)::bigint >> 32) & 4294967295)
"""  # the holder of this lock only: other tests may hold advisory locks meanwhile


async def lock_holder(conn: asyncpg.Connection, key: str) -> int:
    """The backend pid of the connection holding the lock ``key`` (``schema:name``)."""
    [pid] = [row["pid"] for row in await conn.fetch(HOLDERS, key)]
    return int(pid)
