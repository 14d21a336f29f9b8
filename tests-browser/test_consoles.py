"""The source document's stories clicked through in a browser (issue 16.7): a csr, an agent
and customers, each in a browser context of their own, at once, on the stack of ``make run``.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import httpx
from playwright.async_api import Page, WebSocketRoute, expect

from support_testkit.make_run import Run
from support_testkit.waiting import eventually

from .people import (
    NUMBER,
    Person,
    accessibility,
    alice_started,
    join_by_number,
    shot,
    sign_in,
    start,
)


async def test_s1_s2_s5_s10_m1_a_csr_starts_customers_join_by_number_chat_and_see_it_end(
    person: Person,
) -> None:
    test = "s1-s5-s10"
    alice, number = await alice_started(person)
    await shot(alice, test, "1-started")

    carol = await person("carol-phone")
    await join_by_number(carol, number, "Carol")
    await expect(carol.get_by_text("Alice is helping you")).to_be_visible()
    panel = alice.get_by_role("tabpanel")
    await expect(panel.get_by_text("Carol: customer (active customer)")).to_be_visible()  # live
    dana = await person("dana")
    await join_by_number(dana, number, "Dana")
    await expect(carol.locator("#people")).to_contain_text("Dana: customer")
    await shot(carol, test, "2-carol-joined")

    await panel.get_by_role("button", name="Start chat").click()  # M1: through the relay
    await carol.get_by_label("Message", exact=True).fill("My printer prints blank pages")
    await carol.get_by_role("button", name="Send").click()
    said = "Carol: My printer prints blank pages"
    for page in (alice, carol, dana):
        await expect(page.get_by_text(said)).to_be_visible()
    await panel.get_by_label("Message", exact=True).fill("Let us look at it together")
    await panel.get_by_role("button", name="Send").click()
    await expect(carol.get_by_text("Alice: Let us look at it together")).to_be_visible()

    await panel.get_by_role("button", name="Make active: Dana").click()  # S5
    await expect(carol.locator("#happened")).to_contain_text("Dana is now the active customer")
    await expect(panel.get_by_text("Dana: customer (active customer)")).to_be_visible()
    await shot(alice, test, "3-dana-active")

    await alice.get_by_role("button", name="Start", exact=True).click()  # S2: single-session
    await expect(alice.locator("#problem")).to_contain_text("you already run a live session")
    assert await accessibility(alice) == []
    assert await accessibility(carol) == []

    await panel.get_by_role("button", name="End session").click()  # S10
    for customer in (carol, dana):
        await expect(customer.locator("#ended")).to_contain_text(
            "The session has ended (ended by controller)"
        )
        await expect(customer.get_by_label("Message", exact=True)).to_be_hidden()  # no chat
    await expect(panel.get_by_text("ended", exact=True)).to_be_visible()
    await shot(carol, test, "4-ended")


async def test_s9_r4_r6_an_agent_takes_the_session_handed_to_him_with_a_345_character_message(
    person: Person, stack: Run
) -> None:
    test = "s9-r4-r6"
    async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.token_of("admin")) as api:
        for agent, name in (("alice", "Alice"), ("dave", "Dave")):  # R3: WebACD agents
            made = await api.put(
                f"/v1/admin/agents/{agent}", json={"name": name, "max_sessions": 2}
            )
            assert made.status_code == 200, made.text
    dave = await person("dave")
    await sign_in(dave, "dave", "Dave", "csr", "agent")
    await dave.get_by_label("available").check()
    alice = await person("alice")
    await sign_in(alice, "alice", "Alice", "csr", "agent")
    number = await start(alice)
    carol = await person("carol")
    await join_by_number(carol, number, "Carol")

    panel = alice.get_by_role("tabpanel")
    await panel.get_by_label("agents", exact=True).check()
    await panel.get_by_label("Agent ids, separated by commas").fill("dave")
    message = panel.get_by_label("Personal message")
    await message.fill("")
    await message.press_sequentially("m" * 346)  # S9: the 346th character cannot be typed
    assert len(await message.input_value()) == 345
    await expect(panel.get_by_text("345 / 345")).to_be_visible()
    await shot(alice, test, "1-handing-off")
    await panel.get_by_role("button", name="Hand off").click()
    await expect(carol.locator("#happened")).to_contain_text("handed to WebACD")
    await expect(carol.locator("#helping")).to_contain_text("Waiting for an agent")

    offer = dave.locator("#offers li")  # R4: the offer, with its message and its countdown
    await expect(offer).to_contain_text("m" * 345)
    await expect(offer).to_contain_text(re.compile(r"\d+ s left"))
    await shot(dave, test, "2-offer")
    await offer.get_by_role("button", name="Accept").click()
    await expect(dave.get_by_text("You control this session.")).to_be_visible()  # R6
    await expect(carol.locator("#helping")).to_contain_text("Dave is helping you")
    await expect(carol.locator("#happened")).to_contain_text("Dave took the session")
    await shot(carol, test, "3-dave-helps")
    assert await accessibility(dave) == []


def queue(name: str, agents: list[str], weekdays: range | list[int]) -> dict[str, object]:
    return {
        "name": name, "agent_ids": agents, "policy": "most_idle", "time_zone": "UTC",
        "hours": [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in weekdays],
        "escalation_seconds": 120, "offer_timeout_seconds": 60,
    }  # fmt: skip


async def test_r8_r5_the_entry_form_waits_in_line_then_an_agent_takes_it(
    person: Person, stack: Run
) -> None:
    test = "r8-r5"
    today = datetime.now(UTC).weekday()
    async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.token_of("admin")) as api:
        made = await api.put("/v1/admin/agents/dave", json={"name": "Dave", "max_sessions": 2})
        assert made.status_code == 200, made.text
        printers = await api.post("/v1/admin/queues", json=queue("Printers", ["dave"], range(7)))
        closed = await api.post(
            "/v1/admin/queues", json=queue("Night", ["dave"], [(today + 3) % 7])
        )
        assert printers.status_code == closed.status_code == 201, (printers.text, closed.text)

    erin = await person("erin-phone")
    await erin.goto(f"/queues/{closed.json()['queue_id']}/form")
    await ask(erin, "Erin")
    await expect(erin.get_by_role("alert")).to_contain_text("it opens")  # R8: closed, and when
    await shot(erin, test, "1-closed")

    await erin.goto(f"/queues/{printers.json()['queue_id']}/form")
    await ask(erin, "Erin")
    await expect(erin.locator("#standing")).to_contain_text("You are number 1 of 1 waiting")  # R5
    await expect(erin.locator("#helping")).to_contain_text("Waiting for an agent")
    await shot(erin, test, "2-waiting")
    assert await accessibility(erin) == []

    dave = await person("dave")
    await sign_in(dave, "dave", "Dave", "csr", "agent")
    await dave.get_by_label("available").check()  # the agent comes: the session is offered
    offer = dave.locator("#offers li")
    await expect(offer).to_contain_text("from Printers")
    await offer.get_by_role("button", name="Accept").click()
    await expect(dave.get_by_text("You control this session.")).to_be_visible()
    await expect(erin.locator("#helping")).to_contain_text("Dave is helping you")
    await expect(erin.locator("#standing")).to_be_hidden()
    await shot(erin, test, "3-taken")
    await erin.goto(f"/queues/{closed.json()['queue_id']}/form")  # another queue: a new form
    await expect(erin.get_by_role("button", name="Ask for help")).to_be_visible()
    await erin.goto(f"/queues/{printers.json()['queue_id']}/form")  # back: her session goes on
    await expect(erin.locator("#helping")).to_contain_text("Dave is helping you")


async def ask(page: Page, name: str) -> None:
    form = page.locator("#request")
    await form.get_by_label("Your name").fill(name)
    await form.get_by_label("Your e-mail address").fill(f"{name.lower()}@example.com")
    await form.get_by_label("The problem").fill("The printer on floor 2 prints blank pages")
    await form.get_by_role("button", name="Ask for help").click()


async def test_s4_closing_the_csrs_page_ends_the_session_for_the_customer(
    person: Person, stack: Run
) -> None:
    async with httpx.AsyncClient(base_url=stack.gateway, headers=stack.token_of("admin")) as api:
        site = (await api.get("/v1/admin/site")).json()["site"]
        changed = await api.put("/v1/admin/site", json={**site, "console_grace_seconds": 2})
        assert changed.status_code == 200, changed.text
    alice, number = await alice_started(person)
    carol = await person("carol")
    await join_by_number(carol, number, "Carol")
    await expect(alice.get_by_role("tabpanel").locator("[data-slot=happened]")).to_contain_text(
        "Carol joined"
    )  # the console's live updates are open: while they are, the session lives
    await asyncio.sleep(4)  # past the grace period, the page still open
    await expect(carol.locator("#helping")).to_contain_text("Alice is helping you")
    await alice.context.close()  # the csr closes the page
    await expect(carol.locator("#ended")).to_contain_text(
        "The session has ended (console closed)", timeout=30_000
    )
    await shot(carol, "s4", "1-console-closed")


async def test_s3_i1_s7_s8_m3_s11_invite_assist_transfer_control_and_leave(
    person: Person, stack: Run
) -> None:
    test = "s3-i1-s7-s8-s11"
    alice = await person("alice")
    await sign_in(alice, "alice", "Alice", "csr")
    await alice.get_by_role("button", name="Start", exact=True).click()  # S3: with the draft
    await expect(
        alice.get_by_role("link", name="Open the invitation in your mail program")
    ).to_have_attribute("href", re.compile("^mailto:"))
    panel = alice.get_by_role("tabpanel")
    found = NUMBER.search(await alice.get_by_role("tab", name=NUMBER).inner_text())
    assert found is not None
    number = found[1]

    invite = panel.locator("[data-slot=invite]")  # I1: the four channels
    invited = panel.locator("[data-slot=invited]")
    await invite.get_by_label("How").select_option("website")
    await invite.get_by_role("button", name="Invite").click()
    await expect(invited).to_contain_text(number.replace(" ", "")[:3])  # the steps name it
    await invite.get_by_label("How").select_option("instant_message")
    await invite.get_by_role("button", name="Invite").click()
    await expect(invited.get_by_role("button", name="Copy the message")).to_be_visible()
    await invite.get_by_label("How").select_option("own_email")
    await invite.get_by_label("E-mail address").fill("carol@example.com")
    await invite.get_by_role("button", name="Invite").click()
    await expect(invited.get_by_role("link")).to_have_attribute("href", re.compile("^mailto:carol"))
    await invite.get_by_label("How").select_option("email")
    await invite.get_by_label("E-mail address").fill("bob@example.com")
    await invite.get_by_role("button", name="Invite").click()
    await expect(invited).to_contain_text("on its way to bob@example.com")
    await shot(alice, test, "1-invited")
    await stack.read_until(r"e-mail to bob@example\.com")
    link = (await stack.read_until(r"its join link: (\S+)"))[1]

    bob = await person("bob")  # with the link of the e-mail the system sent
    await bob.goto(link)  # the run made the links lead to its gateway
    await expect(bob.get_by_text("You were invited by a link")).to_be_visible()
    await bob.locator("#join").get_by_label("Your name").fill("Bob")
    await bob.locator("#join").get_by_role("button", name="Join").click()
    await expect(bob.locator("#people")).to_contain_text("Bob (you): customer")

    dave = await person("dave")  # S7: a csr assists by the number
    await sign_in(dave, "dave", "Dave", "csr")
    await dave.get_by_label("Session number").fill(number)
    await dave.get_by_role("button", name="Assist").click()
    await expect(dave.get_by_text("Alice controls this session; you assist.")).to_be_visible()
    await expect(panel.get_by_text("Dave: assistant")).to_be_visible()
    await panel.get_by_role("button", name="Start chat").click()
    await expect(bob.get_by_label("Message", exact=True)).to_be_visible()

    transfer = panel.locator("[data-slot=transfer]")  # S8: only assistants in the session
    assert await transfer.get_by_label("To an assistant in this session").locator(
        "option"
    ).all_inner_texts() == ["Dave"]
    await transfer.get_by_role("button", name="Transfer control").click()
    await expect(dave.get_by_text("You control this session.")).to_be_visible()
    await expect(panel.get_by_text("Dave controls this session; you assist.")).to_be_visible()
    await expect(bob.locator("#helping")).to_contain_text("Dave is helping you")
    await expect(bob.get_by_label("Message", exact=True)).to_be_hidden()  # M3: the chat ended
    await shot(dave, test, "2-dave-controls")

    dave_panel = dave.get_by_role("tabpanel")  # and back: Alice is now the one assistant
    back = dave_panel.locator("[data-slot=transfer]")
    await expect(
        back.get_by_label("To an assistant in this session").locator("option")
    ).to_have_text(["Alice"])
    await back.get_by_role("button", name="Transfer control").click()
    await expect(panel.get_by_text("You control this session.")).to_be_visible()
    await expect(dave_panel.get_by_text("Alice controls this session; you assist.")).to_be_visible()
    await expect(bob.locator("#helping")).to_contain_text("Alice is helping you")

    await dave_panel.get_by_role("button", name="Leave").click()  # S11: the assistant leaves
    await expect(panel.locator("[data-slot=participants]")).not_to_contain_text("Dave")
    await expect(dave_panel.get_by_text("you left")).to_be_visible()
    await expect(bob.locator("#happened")).to_contain_text("Dave left")
    await shot(bob, test, "3-dave-left")


async def test_s1_a_csr_starts_and_a_customer_joins_with_the_keyboard_alone(
    person: Person,
) -> None:
    """Issue 16.8: every control is reached and used by the keyboard (Tab, typing, Space,
    Enter), no pointer."""
    alice = await person("alice")
    await alice.goto("/console")
    await expect(alice.get_by_label("User id")).to_be_visible()  # the page learnt how to sign in
    keys = alice.keyboard
    await keys.press("Tab")  # the user id, first
    await keys.type("alice")
    await keys.press("Tab")
    await keys.type("Alice")
    for _ in range(4):  # csr (checked), agent, admin, then Sign in
        await keys.press("Tab")
    await keys.press("Enter")
    await expect(alice.get_by_text("Signed in as Alice (csr)")).to_be_visible()
    await keys.press("Tab")  # Sign out
    await keys.press("Tab")  # the e-mail invitation: off
    await keys.press("Space")
    await keys.press("Tab")
    await keys.press("Enter")  # Start
    tab = alice.get_by_role("tab", name=NUMBER)
    await expect(tab).to_be_visible()
    found = NUMBER.search(await tab.inner_text())
    assert found is not None

    carol = await person("carol")
    await carol.goto("/join")
    await carol.keyboard.press("Tab")  # the session number, first
    await carol.keyboard.type(found[1])
    await carol.keyboard.press("Tab")
    await carol.keyboard.type("Carol")
    await carol.keyboard.press("Enter")  # submits the form
    await expect(carol.get_by_text("Alice is helping you")).to_be_visible()


async def test_m1_a_customer_page_opens_its_relay_channel_again_when_it_drops(
    person: Person,
) -> None:
    """The customer's live channel is cut (as a relay restarting or a network blinking would
    cut it); the page opens it again by itself, and the chat goes on through the new one."""
    alice, number = await alice_started(person)
    carol = await person("carol-cut")
    routed: list[WebSocketRoute] = []

    def through(page_side: WebSocketRoute) -> None:  # to the relay, as it is, but cuttable
        page_side.connect_to_server()
        routed.append(page_side)

    await carol.route_web_socket(re.compile(r"/relay\b"), through)
    await join_by_number(carol, number, "Carol")
    await eventually(lambda: len(routed) == 1, what="carol's relay channel")
    await routed[0].close(code=1001, reason="going away")  # the cut
    await eventually(lambda: len(routed) == 2, within=10, what="the channel opened again")

    panel = alice.get_by_role("tabpanel")
    await panel.get_by_role("button", name="Start chat").click()
    await carol.get_by_label("Message", exact=True).fill("Still there?")
    await carol.get_by_role("button", name="Send").click()
    await expect(alice.get_by_text("Carol: Still there?")).to_be_visible()
    await panel.get_by_label("Message", exact=True).fill("Yes")
    await panel.get_by_role("button", name="Send").click()
    await expect(carol.get_by_text("Alice: Yes")).to_be_visible()
    await panel.get_by_role("button", name="End session").click()
    await expect(carol.locator("#ended")).to_contain_text("The session has ended")
    assert len(routed) == 2  # the relay's close at the end is final: not opened again


async def shows_a_picture(page: Page) -> None:
    """The shared screen is shown: a decoded picture of the fake capture device's size."""
    picture = page.locator("figure:visible img")
    await expect(picture).to_be_visible()
    await eventually(
        lambda: picture.evaluate("img => img.complete && img.naturalWidth > 100"),
        what="a decoded picture of the shared screen",
    )


async def test_s6_m2_m3_a_shared_screen_is_seen_by_all_and_stops_when_the_customer_changes(
    person: Person,
) -> None:
    test = "s6-m2"
    alice, number = await alice_started(person)
    carol, dana = await person("carol-screen"), await person("dana-screen")
    await join_by_number(carol, number, "Carol")
    await join_by_number(dana, number, "Dana")
    panel = alice.get_by_role("tabpanel")
    await expect(dana.get_by_role("button", name="Share my screen")).to_be_hidden()  # M2

    await panel.get_by_role("button", name="Share my screen").click()  # S6: the controller
    for viewer in (carol, dana):
        await shows_a_picture(viewer)
        await expect(viewer.locator("#screen figcaption")).to_have_text("Alice shares a screen")
    await shot(carol, test, "1-carol-sees-alice")
    assert await accessibility(carol) == []

    await panel.get_by_role("button", name="Make active: Dana").click()  # S5 ends it (M3)
    for viewer in (carol, dana):
        await expect(viewer.locator("#screen")).to_be_hidden()
    await expect(panel.get_by_role("button", name="Stop sharing")).to_be_hidden()

    share = dana.get_by_role("button", name="Share my screen")  # M2: the active customer's own
    await share.click()
    await shows_a_picture(alice)
    await expect(panel.locator("figcaption")).to_have_text("Dana shares a screen")
    await shows_a_picture(carol)
    await shot(alice, test, "2-alice-sees-dana")
    await dana.get_by_role("button", name="Stop sharing").click()
    for viewer in (alice, carol):
        await expect(viewer.locator("figure:visible")).to_have_count(0)
