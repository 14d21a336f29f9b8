"""session-svc running for the other services' tests, on the test's own schema and names."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from session_svc.bootstrap import SessionService, start
from session_svc.settings import Settings
from support_testkit.plugin import SettingsFor, fresh_schema


@pytest_asyncio.fixture
async def session_svc(
    database_url: str, settings_for: SettingsFor
) -> AsyncIterator[SessionService]:
    async with fresh_schema(database_url) as schema:
        service = await start(settings_for(Settings, schema, console_watch_seconds=3600))
        yield service
        await service.stop()
