"""The agent view beyond WebACD (issue 18.6): away with a reason of the site's list (R12), and
set away by routing, not responding, after letting an offer expire (R13); on the stack of
``make run``."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from support_testkit.gateway_api import ALWAYS
from support_testkit.make_run import Run

from .people import Person, accessibility, shot, sign_in


def printers_queue(**more: object) -> dict[str, object]:
    """The queue "Printers" of dave's, open always, with ``more`` of issue 18's settings."""
    return {
        "name": "Printers", "agent_ids": ["dave"], "policy": "most_idle", "time_zone": "UTC",
        "hours": ALWAYS, "escalation_seconds": 600, "offer_timeout_seconds": 60, **more,
    }  # fmt: skip


async def test_r12_r13_an_agent_away_for_lunch_then_set_away_for_not_responding(
    person: Person, stack: Run
) -> None:
    test = "r12-r13"
    queue = printers_queue(offer_timeout_seconds=3, max_missed_offers=1)
    async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.token_of("admin")) as api:
        made = await api.put("/v1/admin/agents/dave", json={"name": "Dave", "max_sessions": 1})
        reasons = await api.put("/v1/admin/status-reasons", json={"reasons": ["lunch", "coaching"]})
        printers = await api.post("/v1/admin/queues", json=queue)
        assert made.status_code == reasons.status_code == 200, (made.text, reasons.text)
        assert printers.status_code == 201, printers.text

    dave = await person("dave")
    await sign_in(dave, "dave", "Dave", "csr", "agent")
    status = dave.locator("#agent-status")
    await dave.get_by_label("away", exact=True).check()  # R12: away, and why
    why = dave.get_by_label("Why (away or offline)")
    await expect(why.locator("option")).to_have_text(["say no reason", "lunch", "coaching"])
    await why.select_option("lunch")
    await expect(status).to_have_text("You are away (lunch).")
    assert await accessibility(dave) == []
    await shot(dave, test, "1-lunch")
    await dave.get_by_label("available").check()
    await expect(status).to_have_text("You are available.")
    await expect(why).to_be_hidden()

    form = {"name": "Erin", "email": "erin@example.com", "problem": "the printer smokes"}
    async with httpx.AsyncClient(base_url=stack.gateway) as customer:
        asked = await customer.post(f"/v1/queues/{printers.json()['queue_id']}/requests", json=form)
        assert asked.status_code == 201, asked.text
    await expect(dave.locator("#offers li")).to_contain_text("from Printers")
    # dave lets it expire (3 s): routing sets him away, and his page says so
    await expect(status).to_contain_text("not responding", timeout=20_000)
    await expect(dave.get_by_label("away", exact=True)).to_be_checked()
    await expect(why).to_have_value("")  # not a reason of the list: routing's own
    await expect(dave.locator("#offers li")).to_have_count(0)
    await shot(dave, test, "2-not-responding")
    await dave.get_by_label("available").check()  # back: offers again
    await expect(status).to_have_text("You are available.")


async def test_r11_an_agent_wraps_up_a_session_with_a_code_of_the_queue_s_list(
    person: Person, stack: Run
) -> None:
    test = "r11"
    queue = printers_queue(wrap_up_seconds=600, wrap_up_codes=["resolved", "escalated"],
                     wrap_up_code_required=True)  # fmt: skip
    async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.token_of("admin")) as api:
        made = await api.put("/v1/admin/agents/dave", json={"name": "Dave", "max_sessions": 1})
        printers = await api.post("/v1/admin/queues", json=queue)
        assert (made.status_code, printers.status_code) == (200, 201), printers.text
    dave = await person("dave")
    await sign_in(dave, "dave", "Dave", "csr", "agent")
    await dave.get_by_label("available").check()
    form = {"name": "Erin", "email": "erin@example.com", "problem": "the printer smokes"}
    async with httpx.AsyncClient(base_url=stack.gateway) as customer:
        asked = await customer.post(f"/v1/queues/{printers.json()['queue_id']}/requests", json=form)
        assert asked.status_code == 201, asked.text
    offer = dave.locator("#offers li")
    await offer.get_by_role("button", name="Accept").click()
    panel = dave.get_by_role("tabpanel")
    await expect(panel.get_by_text("You control this session.")).to_be_visible()
    await panel.get_by_role("button", name="End session").click()

    wrap_up = dave.locator("#wrap-ups li")  # R11: the slot stays taken until he finishes
    await expect(wrap_up).to_contain_text("A session ended: wrap it up by")
    await wrap_up.get_by_role("button", name="Finish wrap-up").click()
    await expect(dave.locator("#problem")).to_contain_text("this queue wants a wrap-up code")
    await wrap_up.get_by_label("Wrap-up code").select_option("resolved")
    assert await accessibility(dave) == []
    await shot(dave, test, "1-wrap-up")
    await wrap_up.get_by_role("button", name="Finish wrap-up").click()
    await expect(dave.locator("#no-wrap-ups")).to_be_visible()
    await expect(wrap_up).to_have_count(0)
