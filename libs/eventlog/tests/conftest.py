from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from eventlog.postgres import PostgresEventStore


@pytest_asyncio.fixture
async def pg_store(database_url: str, pg_schema: str) -> AsyncIterator[PostgresEventStore]:
    pg = await PostgresEventStore.connect(database_url, pg_schema, max_size=20)
    yield pg
    await pg.close()
