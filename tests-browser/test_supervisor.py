"""The supervisor view (R16, R17; issue 18.3, 18.6), on the stack of ``make run``: the queues'
statistics and the sessions waiting and live, each as it changes without a reload; a refusal in
the API's words; a take-over that opens the session as the supervisor's tab while the former
controller's page says it assists now, and the supervisor's chat through the relay; ending a
waiting session and the taken one."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from support_testkit.make_run import Run

from .people import Person, accessibility, alice_started, join_by_number, shot, sign_in
from .test_agent import printers_queue


async def test_r16_r17_a_supervisor_watches_the_queues_and_takes_over_a_live_session(
    person: Person, stack: Run
) -> None:
    test = "r17"
    async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.token_of("admin")) as api:
        made = await api.put("/v1/admin/agents/dave", json={"name": "Dave", "max_sessions": 1})
        printers = await api.post("/v1/admin/queues", json=printers_queue())
        assert (made.status_code, printers.status_code) == (200, 201), printers.text

    sam = await person("sam")
    await sign_in(sam, "sam", "Sam", "supervisor")
    await expect(sam.locator("#start")).to_be_hidden()  # a supervisor only steps in
    stats = sam.locator("#queue-stats tr", has_text="Printers")
    await expect(stats.locator("td").first).to_have_text("0")  # nobody waits
    await expect(sam.locator("#no-waiting")).to_be_visible()
    await expect(sam.locator("#no-live")).to_be_visible()

    # R16, R17: a customer asks (dave is offline): the page shows it waiting, without a reload
    form = {"name": "Erin", "email": "erin@example.com", "problem": "the printer smokes"}
    async with httpx.AsyncClient(base_url=stack.gateway) as customer:
        asked = await customer.post(f"/v1/queues/{printers.json()['queue_id']}/requests", json=form)
        assert asked.status_code == 201, asked.text
    waiting = sam.locator("#waiting-sessions li")
    await expect(waiting).to_contain_text("Waiting in Printers")
    await expect(waiting).to_contain_text("number 1 in the queue")
    await expect(stats.locator("td").first).to_have_text("1")
    agent = waiting.get_by_label("Agent id")
    await agent.click()
    await sam.keyboard.type("da")
    shown = await waiting.locator("span").inner_text()
    await expect(waiting.locator("span")).not_to_have_text(shown)  # a poll came in between:
    await sam.keyboard.type("ve")  # the row was kept, and the focus in its field with it
    await expect(agent).to_have_value("dave")
    await waiting.get_by_role("button", name="Assign").click()  # dave is offline: refused
    await expect(sam.locator("#problem")).to_have_text("dave is offline, not available")
    assert await accessibility(sam) == []
    await shot(sam, test, "1-waiting")

    alice, number = await alice_started(person)
    cy = await person("cy")
    await join_by_number(cy, number, "Cy")
    live = sam.locator("#live-sessions li", has_text=number)
    await expect(live).to_contain_text("Alice controls, customers: Cy")
    await live.get_by_role("button", name=f"Take over session {number}").click()
    await expect(sam.get_by_role("tab", name=f"Session {number}")).to_be_visible()
    await expect(sam.get_by_text("You control this session.")).to_be_visible()
    await expect(live).to_contain_text("Sam controls")
    await expect(alice.get_by_text("Sam controls this session; you assist.")).to_be_visible()
    await expect(alice.locator("[data-slot=happened]")).to_contain_text(
        "Sam took control over from Alice"
    )
    await expect(cy.locator("#people")).to_contain_text("Sam")
    panel = sam.get_by_role("tabpanel")
    await panel.get_by_role("button", name="Start chat").click()  # M1: sam is in the relay too
    await panel.get_by_label("Message", exact=True).fill("I am taking this over, Cy")
    await panel.get_by_role("button", name="Send").click()
    for page in (cy, alice):
        await expect(page.get_by_text("Sam: I am taking this over, Cy")).to_be_visible()
    await shot(sam, test, "2-taken-over")

    await waiting.get_by_role("button", name="End").click()  # the waiting request, ended
    await expect(sam.locator("#no-waiting")).to_be_visible()
    # the taken one, as its controller
    await sam.get_by_role("button", name="End session", exact=True).click()
    await expect(alice.locator("[data-slot=status]")).to_have_text("ended")
    await expect(sam.locator("#no-live")).to_be_visible()
    await shot(sam, test, "3-ended")
