"""The consoles in a real browser (issue 16.7): headless Chromium from Debian's `chromium`
package (``scripts/browser-up`` installs it; no browser download), driven by Playwright,
against the stack of ``make run`` on the real RabbitMQ and PostgreSQL. Each person has a
browser context of their own; every step's screenshot is kept in ``tests-browser/screenshots``.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
from playwright.async_api import Browser, Page, async_playwright

from support_testkit.make_run import Run, forget, make_run

from .people import Person

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [  # Debian's Chromium as root, on a machine with no network but loopback
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync",
    # a headless browser has no screen to share: Chromium's fake capture device (a moving test
    # picture) answers getDisplayMedia, and the picker is accepted without a person
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--auto-select-desktop-capture-source=Entire screen",
]  # fmt: skip


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


@pytest.fixture
def run_environment() -> dict[str, str]:
    """More of ``make run``'s environment (a test module may override this fixture)."""
    return {}


@pytest.fixture
async def stack(
    tmp_path: Path, amqp_url: str, database_url: str, run_environment: dict[str, str]
) -> AsyncIterator[Run]:
    """``make run`` on the real servers, under a name of this test's own."""
    name = f"b{uuid4().hex[:10]}"
    environment = {"AMQP_URL": amqp_url, "DATABASE_URL": database_url, "RUN_NAME": name,
                   **run_environment}  # fmt: skip
    try:
        async with make_run(tmp_path, **environment) as run:
            yield run
            assert await run.stop() == 0
    finally:
        await forget(amqp_url, database_url, name)


@pytest.fixture
async def person(
    browser: Browser, stack: Run, request: pytest.FixtureRequest
) -> AsyncIterator[Person]:
    """A new person: a browser context of their own (their own session storage), at 1280x800,
    or at a phone's 390 px wide when the name ends in "phone"."""
    contexts = []

    async def new(name: str) -> Page:
        size = {"width": 390, "height": 844} if name.endswith("phone") else None
        context = await browser.new_context(
            base_url=stack.gateway, viewport=size or {"width": 1280, "height": 800}
        )
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: pytest.fail(f"{name}'s page: {error}"))
        return page

    yield new
    for context in contexts:
        await context.close()
