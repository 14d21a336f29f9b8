"""What the browser tests share: a person (a page in a browser context of their own), a
screenshot of each step (kept in ``tests-browser/screenshots``), and axe-core's check."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Page

HERE = Path(__file__).parent
SHOTS = HERE / "screenshots"
AXE = HERE.parent / "consoles" / "node_modules" / "axe-core" / "axe.min.js"

Person = Callable[[str], Awaitable[Page]]


async def shot(page: Page, test: str, step: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=SHOTS / f"{test}-{step}.png", full_page=True)


async def accessibility(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    await page.add_script_tag(path=AXE)
    found = await page.evaluate("async () => (await axe.run()).violations")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    return [json.loads(json.dumps({k: v[k] for k in ("id", "help", "nodes")})) for v in serious]
