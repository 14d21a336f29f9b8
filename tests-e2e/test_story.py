"""The whole story of REQUIREMENTS.md through the gateway, every service its own process on the
real RabbitMQ and PostgreSQL and a real SMTP server; the live channel through the relay with
the participant tokens the gateway hands out. Every refusal along the way is checked."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from media_relay import frames
from support_testkit.gateway_api import printers_desk
from support_testkit.waiting import eventually

from .helpers import ALICE, ALWAYS, BOB, ROOT, ZOE, Client, bearer, call, offer_for, staff
from .stack import SITE, Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


async def test_the_whole_story_through_the_gateway(stack: Stack, api: httpx.AsyncClient) -> None:
    # an admin sets up: alice and zoe are agents, a queue of zoe's
    printers = await printers_desk(api, ROOT, ZOE)

    # S1-S3: alice starts with the e-mail invitation draft ready
    started = await call(api, "POST", "/v1/sessions", ALICE, {"email_invite": True}, status=201)
    session, number = started["session_id"], started["session_number"]
    assert started["draft"]["mailto"].startswith("mailto:") and started["join_url"].startswith(SITE)
    await call(api, "POST", "/v1/sessions", ALICE, {"email_invite": False}, status=409)  # S2

    # I1: an e-mail invitation, delivered by SMTP; carol joins with its link
    invited = {"role": "customer", "channel": "email", "to": "carol@example.com"}
    await call(api, "POST", f"/v1/sessions/{session}/invitations", ALICE, invited, status=201)
    await eventually(lambda: stack.mailbox.messages, within=20, what="the invitation e-mail")
    letter = stack.mailbox.messages[0]
    assert letter["To"] == "carol@example.com"
    text = letter.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(rf"{re.escape(SITE)}/join\?token=\S+", text)
    assert link is not None and f"{number[:3]} {number[3:6]} {number[6:]}" in text
    link_token = parse_qs(urlsplit(link.group(0)).query)["token"][0]
    carol = await call(api, "POST", "/v1/join", {}, {"token": link_token, "name": "Carol"})

    # I2: a csr's invitation (by instant message) works once, and only for a signed-in csr
    im = {"role": "csr", "channel": "instant_message"}
    sent = await call(api, "POST", f"/v1/sessions/{session}/invitations", ALICE, im, status=201)
    cyd_token = parse_qs(urlsplit(sent["join_url"]).query)["token"][0]
    await call(api, "POST", "/v1/join", {}, {"token": cyd_token, "name": "Cyd"}, status=403)
    as_customer = bearer(carol)  # a customer's participant token is no csr's sign-in
    await call(api, "POST", "/v1/join", as_customer, {"token": cyd_token, "name": "Cy"}, status=403)
    cyd = staff("cyd", "csr")
    await call(api, "POST", "/v1/join", cyd, {"token": cyd_token, "name": "Cyd"})
    await call(api, "POST", "/v1/join", cyd, {"token": cyd_token, "name": "Cyd"}, status=409)
    await call(api, "POST", f"/v1/sessions/{session}/leave", cyd)

    # a second customer by the session number; an assistant by the number
    dan = await call(api, "POST", "/v1/join", {}, {"session_number": number, "name": "Dan"})
    bob = await call(api, "POST", "/v1/assist", BOB, {"session_number": number})
    view = await call(api, "GET", f"/v1/sessions/{session}", bearer(carol))
    roles = {p["id"]: p["role"] for p in view["participants"]}
    assert roles == {"alice": "controller", carol["participant_id"]: "customer",
                     dan["participant_id"]: "customer", "bob": "assistant"}  # fmt: skip

    # the live channel: alice shares, every participant sees it (S6)
    alice_relay = await Client.connect(started)
    carol_relay, bob_relay = await Client.connect(carol), await Client.connect(bob)
    sharing = (await alice_relay.ask(type="start", kind="desktop_sharing"))["activity_id"]
    await alice_relay.ws.send(frames.encode({"kind": "share", "activity_id": sharing}, b"screen"))
    for viewer in (carol_relay, bob_relay):
        await eventually(lambda v=viewer: v.frames == [b"screen"], what="the shared screen")

    # S5: selecting dan as active customer ends the sharing; the refusals of non-controllers
    await call(api, "POST", f"/v1/sessions/{session}/active-customer", ALICE,
               {"participant_id": dan["participant_id"]})  # fmt: skip
    ended = await carol_relay.told("activity_ended", activity_id=sharing)
    assert ended["reason"] == "active_customer_changed"
    await call(api, "POST", f"/v1/sessions/{session}/end", bearer(carol), status=403)
    await call(api, "POST", f"/v1/sessions/{session}/end", BOB, status=403)
    await call(api, "POST", f"/v1/sessions/{session}/control", BOB, {"to": "bob"}, status=403)

    # S8: control to bob and back; activities end at once
    chat = (await alice_relay.ask(type="start", kind="chat"))["activity_id"]
    await call(api, "POST", f"/v1/sessions/{session}/control", ALICE, {"to": "bob"})
    assert (await carol_relay.told("activity_ended", activity_id=chat))["reason"] == (
        "control_transferred"
    )
    await call(api, "POST", f"/v1/sessions/{session}/control", BOB, {"to": "alice"})

    # S9: a hand-off message of 346 characters is refused, 345 goes; zoe is offered it
    long = {"queue_id": printers, "message": "m" * 346}
    await call(api, "POST", f"/v1/sessions/{session}/handoff", ALICE, long, status=422)
    await call(api, "POST", f"/v1/sessions/{session}/handoff", BOB, {"queue_id": printers},
               status=403)  # fmt: skip
    handoff = {"queue_id": printers, "message": "m" * 345}
    await call(api, "POST", f"/v1/sessions/{session}/handoff", ALICE, handoff)
    await carol_relay.told("handed_off", by="alice")
    offer = await offer_for(api, ZOE, session)
    await call(api, "POST", f"/v1/offers/{offer}/accept", ROOT, status=403)
    taken = await call(api, "POST", f"/v1/offers/{offer}/accept", ZOE)
    assert taken["assigned"] is True
    assert (await call(api, "GET", f"/v1/sessions/{session}", ZOE))["controller"] == "zoe"
    await call(api, "GET", f"/v1/sessions/{session}", ALICE, status=403)  # alice is gone

    # R6/S10: the agent ends it; the relay tells the customers, links and numbers stop working
    zoe_relay = await Client.connect(taken)
    await call(api, "POST", f"/v1/sessions/{session}/end", ZOE)
    await carol_relay.told("session_ended", reason="ended_by_controller")
    await zoe_relay.told("session_ended")
    await call(api, "POST", f"/v1/sessions/{session}/end", ZOE, status=409)
    await call(api, "POST", "/v1/join", {}, {"session_number": number, "name": "Late"}, status=409)
    events = (await call(api, "GET", f"/v1/sessions/{session}/events", ROOT))["events"]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "SessionStarted" and kinds[-1] == "SessionEnded"
    assert {"HandedToQueue", "AgentAssigned", "ControlTransferred"} <= set(kinds)


async def test_the_customer_entry_form_path(stack: Stack, api: httpx.AsyncClient) -> None:
    await call(api, "PUT", "/v1/admin/agents/yan", ROOT, {"name": "Yan", "max_sessions": 1})
    yan = staff("yan", "agent")
    queue = {"name": "Billing", "agent_ids": ["yan"], "policy": "round_robin", "time_zone": "UTC",
             "hours": ALWAYS, "escalation_seconds": 600, "offer_timeout_seconds": 60}  # fmt: skip
    billing = (await call(api, "POST", "/v1/admin/queues", ROOT, queue, status=201))["queue_id"]
    form = {"name": "Erin", "email": "erin@example.com", "problem": "charged twice"}
    asked = await call(api, "POST", f"/v1/queues/{billing}/requests", {}, form, status=201)
    where = f"/v1/queues/{billing}/requests/{asked['request_id']}"

    async def placed() -> dict[str, Any] | None:
        response = await api.get(where, headers=bearer(asked))
        return response.json() if response.status_code == 200 else None

    standing = await eventually(placed, within=20, what="erin's place")
    assert standing is not None and standing["position"] == 1
    erin_relay = await Client.connect(asked)

    await call(api, "PUT", "/v1/agents/me/status", yan, {"status": "available"})
    offer = await offer_for(api, yan, asked["session_id"])
    taken = await call(api, "POST", f"/v1/offers/{offer}/accept", yan)
    assert taken["assigned"] is True
    await erin_relay.told("agent_assigned", agent_id="yan")
    await call(api, "GET", where, bearer(asked), status=404)  # not waiting any more
