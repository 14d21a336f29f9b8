from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from eventlog.postgres import PostgresEventStore
from support_testkit.plugin import RabbitNames

from .wiring import RabbitWiring


@pytest_asyncio.fixture
async def pg_store(database_url: str, pg_schema: str) -> AsyncIterator[PostgresEventStore]:
    pg = await PostgresEventStore.connect(database_url, pg_schema, max_size=20)
    yield pg
    await pg.close()


@pytest_asyncio.fixture
async def rabbit(amqp_url: str, rabbit_names: RabbitNames) -> AsyncIterator[RabbitWiring]:
    wiring = RabbitWiring(amqp_url, rabbit_names)
    yield wiring
    await wiring.close()
