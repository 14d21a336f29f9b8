"""What the browser tests share: a person (a page in a browser context of their own), a
screenshot of each step (kept in ``tests-browser/screenshots``), and axe-core's check."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from playwright.async_api import Page, expect

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


NUMBER = re.compile(r"Session (\d{3} \d{3} \d{3})")


async def sign_in(page: Page, user: str, name: str, *roles: str) -> None:
    await page.goto("/console")
    await page.get_by_label("User id").fill(user)
    await page.get_by_label("Your name").fill(name)
    labels = (("csr", "csr"), ("agent", "WebACD agent"), ("supervisor", "supervisor"),
              ("admin", "admin"))  # fmt: skip
    for role, label in labels:
        await page.get_by_label(label, exact=True).set_checked(role in roles)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()


async def start(page: Page) -> str:
    """S1: a session started from the dashboard; its number as the tab shows it."""
    await page.get_by_label("Open an e-mail invitation for the customer").uncheck()
    await page.get_by_role("button", name="Start", exact=True).click()
    tab = page.get_by_role("tab", name=NUMBER)
    await expect(tab).to_be_visible()
    found = NUMBER.search(await tab.inner_text())
    assert found is not None
    await expect(page.get_by_text("You control this session.")).to_be_visible()
    return found[1]


async def alice_started(person: Person) -> tuple[Page, str]:
    """Alice, a csr, signed in with a session started; and its number."""
    alice = await person("alice")
    await sign_in(alice, "alice", "Alice", "csr")
    return alice, await start(alice)


async def join_by_number(page: Page, number: str, name: str) -> None:
    await page.goto("/join")
    form = page.locator("#join")
    await form.get_by_label("Session number").fill(number)  # as shown, spaces and all
    await form.get_by_label("Your name").fill(name)
    await form.get_by_role("button", name="Join").click()
    await expect(page.locator("#people")).to_contain_text(f"{name} (you): customer")
