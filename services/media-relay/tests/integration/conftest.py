"""The relay under test with session-svc, on the test's own schema, names and directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from media_relay.bootstrap import MediaRelay, start
from session_svc.bootstrap import SessionService
from support_rpc import RpcClient
from support_testkit.plugin import SettingsFor, fresh_schema

from .peers import Sessions, relay_settings


@pytest_asyncio.fixture
async def schema(database_url: str) -> AsyncIterator[str]:
    async with fresh_schema(database_url) as name:
        yield name


@pytest.fixture
def relay_overrides() -> dict[str, Any]:
    """Settings a test module gives its relay besides the test's own names (none here)."""
    return {}


@pytest_asyncio.fixture
async def relay(
    settings_for: SettingsFor,
    session_svc: SessionService,
    schema: str,
    tmp_path: Path,
    relay_overrides: dict[str, Any],
) -> AsyncIterator[MediaRelay]:
    settings = relay_settings(
        settings_for,
        schema,
        session_svc.settings.command_queue,
        tmp_path / "recordings",
        **relay_overrides,
    )
    service = await start(settings)
    yield service
    await service.stop()


@pytest_asyncio.fixture
async def sessions(amqp_url: str, session_svc: SessionService) -> AsyncIterator[Sessions]:
    client = await RpcClient(amqp_url).connect()
    yield Sessions(client, session_svc.settings.command_queue)
    await client.close()
