"""A csr in multi-session mode (S2): a tab per session in the dashboard, each with its own
customers, live, and the limit's refusal shown as the API words it."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from support_testkit.make_run import Run

from .people import NUMBER, Person, accessibility, join_by_number, shot, sign_in


async def test_s2_a_csr_in_multi_session_mode_works_each_session_in_a_tab_of_its_own(
    person: Person, stack: Run
) -> None:
    test = "s2-tabs"
    async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.token_of("admin")) as api:
        site = (await api.get("/v1/admin/site")).json()["site"]
        limited = await api.put("/v1/admin/site", json={**site, "max_sessions_per_csr": 2})
        assert limited.status_code == 200, limited.text
        multi = {"session_mode": "multi", "is_webacd_agent": False, "voice_supported": True}
        made = await api.put("/v1/admin/csrs/alice", json=multi)
        assert made.status_code == 200, made.text
    alice = await person("alice")
    await sign_in(alice, "alice", "Alice", "csr")
    await alice.get_by_label("Open an e-mail invitation for the customer").uncheck()
    tabs = alice.get_by_role("tab", name=NUMBER)
    numbers = []
    for count in (1, 2):
        await alice.get_by_role("button", name="Start", exact=True).click()
        await expect(tabs).to_have_count(count)
        found = NUMBER.search(await tabs.nth(count - 1).inner_text())
        assert found is not None
        numbers.append(found[1])
        await expect(tabs.nth(count - 1)).to_have_attribute("aria-selected", "true")  # the new one
    assert numbers[0] != numbers[1]

    carol, erin = await person("carol"), await person("erin")
    await join_by_number(carol, numbers[0], "Carol")
    await join_by_number(erin, numbers[1], "Erin")
    shown = alice.get_by_role("tabpanel")  # the one selected: the second session's
    await expect(shown).to_have_count(1)
    await expect(shown.get_by_text("Erin: customer (active customer)")).to_be_visible()
    await expect(shown).not_to_contain_text("Carol")
    await shot(alice, test, "1-second-tab")

    await tabs.nth(0).click()  # the first session: its own customer, live while hidden
    await expect(tabs.nth(0)).to_have_attribute("aria-selected", "true")
    await expect(shown.get_by_text("Carol: customer (active customer)")).to_be_visible()
    await expect(shown).not_to_contain_text("Erin")
    assert await accessibility(alice) == []

    await alice.get_by_role("button", name="Start", exact=True).click()  # over the site's 2
    await expect(alice.locator("#problem")).to_contain_text("you already run 2 live sessions")
    await expect(tabs).to_have_count(2)
    await shot(alice, test, "2-over-the-limit")

    await shown.get_by_role("button", name="End session").click()  # one ends, the other goes on
    await expect(carol.locator("#ended")).to_contain_text("ended by controller")
    await tabs.nth(1).click()
    await expect(shown.get_by_text("You control this session.")).to_be_visible()
    await expect(erin.locator("#ended")).to_be_hidden()
