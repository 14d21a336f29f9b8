from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from eventlog import EventStore, InMemoryEventStore
from eventlog.postgres import PostgresEventStore
from support_testkit.plugin import fresh_schema


@pytest_asyncio.fixture(params=["memory", "postgres"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[EventStore]:
    """Every test that takes ``store`` runs against both implementations."""
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    database_url = request.getfixturevalue("database_url")
    async with fresh_schema(database_url) as schema:
        pg = await PostgresEventStore.connect(database_url, schema)
        yield pg
        await pg.close()


@pytest_asyncio.fixture
async def pg_store(database_url: str, pg_schema: str) -> AsyncIterator[PostgresEventStore]:
    pg = await PostgresEventStore.connect(database_url, pg_schema, max_size=20)
    yield pg
    await pg.close()
