"""The whole system, started for each end-to-end test (``stack.py``), and a client of its
gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from support_demo.stack import Image
from support_testkit.containers import built_image
from support_testkit.plugin import RabbitNames

from .stack import Stack, start


@pytest.fixture(scope="session")
def image(request: pytest.FixtureRequest) -> Image | None:
    """With ``--services-from-image`` (``make test-containers``), the image the services run
    from: built from the Dockerfile with podman (issue 17.1)."""
    return Image(built_image()) if request.config.getoption("services_from_image") else None


@pytest_asyncio.fixture
async def stack(
    amqp_url: str, database_url: str, rabbit_names: RabbitNames, tmp_path: Path, image: Image | None
) -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        yield await start(exits, amqp_url, database_url, rabbit_names, tmp_path, image)


@pytest_asyncio.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        yield client
