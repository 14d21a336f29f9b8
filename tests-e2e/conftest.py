"""The whole system, started for each end-to-end test (``stack.py``), and a client of its
gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest_asyncio

from support_testkit.plugin import RabbitNames

from .stack import Stack, start


@pytest_asyncio.fixture
async def stack(
    amqp_url: str, database_url: str, rabbit_names: RabbitNames, tmp_path: Path
) -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start(exits, amqp_url, database_url, rabbit_names, tmp_path)


@pytest_asyncio.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client
