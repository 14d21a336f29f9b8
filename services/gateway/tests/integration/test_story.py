"""The whole story through the gateway's HTTP API (E1), services on the real RabbitMQ and
PostgreSQL: a csr starts with the e-mail draft, customers join by link and by number, an
assistant joins, control goes and comes back, a hand-off to a queue (345 characters; 346 is
refused), an agent accepts and ends it; the live stream carries it all in order. And the entry
form of a queue with the customer's position."""

from __future__ import annotations

import asyncio
from uuid import UUID

import httpx
import pytest

from gateway.bootstrap import GatewayService
from session_svc.bootstrap import SessionService
from session_svc.console_watch import ConsoleWatch
from support_testkit.waiting import eventually

from .conftest import bearer
from .story import (
    ADMIN,
    ALICE,
    BOB,
    YANN,
    ZOE,
    agent,
    live_events,
    offer_for,
    ok,
    queue,
    refused,
    waiting_in,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


async def test_e1_the_whole_story_through_the_gateway(
    api: httpx.AsyncClient, gateway: GatewayService
) -> None:
    await agent(api, "zoe", ZOE)
    await agent(api, "alice", ALICE)
    printers = await queue(api, ["zoe"])

    started = ok(await api.post("/v1/sessions", json={"email_invite": True}, headers=ALICE), 201)
    session_id = started["session_id"]
    assert started["draft"]["mailto"].startswith("mailto:")
    assert started["relay_url"].endswith(f"/v1/sessions/{session_id}/relay")
    live = asyncio.create_task(live_events(gateway, session_id, ALICE))

    link_token = started["join_url"].rsplit("/", 1)[-1].split("=")[-1]
    carol = ok(await api.post("/v1/join", json={"token": link_token, "name": "Carol"}))
    number = started["session_number"]
    dan = ok(await api.post("/v1/join", json={"session_number": number, "name": "Dan"}))
    carol_h = {"Authorization": f"Bearer {carol['participant_token']}"}
    assert ok(await api.get(f"/v1/sessions/{session_id}", headers=carol_h))["controller"] == "alice"
    ok(
        await api.post(
            "/v1/assist",
            json={"session_number": f"{number[:3]} {number[3:6]} {number[6:]}"},
            headers=BOB,
        )
    )

    picked = {"participant_id": dan["participant_id"]}
    ok(await api.post(f"/v1/sessions/{session_id}/active-customer", json=picked, headers=ALICE))
    refused(await api.post(f"/v1/sessions/{session_id}/end", headers=BOB), 403)
    ok(await api.post(f"/v1/sessions/{session_id}/control", json={"to": "bob"}, headers=ALICE))
    ok(await api.post(f"/v1/sessions/{session_id}/control", json={"to": "alice"}, headers=BOB))

    too_long = {"queue_id": printers, "message": "x" * 346}
    refused(await api.post(f"/v1/sessions/{session_id}/handoff", json=too_long, headers=ALICE), 422)
    # S9, issue 14.1: a hand-off to nothing is refused and changes nothing (nobody would take
    # it, its customers would wait for good): a queue that does not exist, ids that are not
    # WebACD agents (bob is a csr only)
    path = f"/v1/sessions/{session_id}/handoff"
    nowhere = {"queue_id": "6a1f3c2e-0000-4000-8000-000000000000"}
    refused(await api.post(path, json=nowhere, headers=ALICE), 404, "unknown_queue")
    for named in (["nobody"], ["zoe", "bob"]):
        answer = await api.post(path, json={"agent_ids": named}, headers=ALICE)
        refused(answer, 404, "unknown_agent")
    assert ok(await api.get(f"/v1/sessions/{session_id}", headers=ALICE))["controller"] == "alice"
    to_agents = {"agent_ids": ["zoe"], "priority": 2}  # R10: a priority is a queue's
    refused(await api.post(path, json=to_agents, headers=ALICE), 422)
    refused(await api.post(path, json={"queue_id": printers, "priority": 10}, headers=ALICE), 422)
    handoff = {"queue_id": printers, "message": "y" * 345, "priority": 2}
    ok(await api.post(f"/v1/sessions/{session_id}/handoff", json=handoff, headers=ALICE))

    offer = await offer_for(api, ZOE, session_id)
    taken = ok(await api.post(f"/v1/offers/{offer}/accept", headers=ZOE))
    assert taken["session_id"] == session_id and taken["participant_token"]
    session = ok(await api.get(f"/v1/sessions/{session_id}", headers=ZOE))
    assert session["controller"] == "zoe"
    refused(await api.get(f"/v1/sessions/{session_id}", headers=ALICE), 403, "not_participant")
    ok(await api.post(f"/v1/sessions/{session_id}/end", headers=ZOE))
    late = await api.post("/v1/join", json={"session_number": number, "name": "Late"})
    refused(late, 409, "session_ended")  # issue 14.8: the digits were right

    events = await asyncio.wait_for(live, 30)
    assert [e["stream_version"] for e in events] == list(range(len(events)))
    kinds = [e["type"] for e in events]
    for expected in ("SessionStarted", "CustomerJoined", "AssistantJoined", "ControlTransferred",
                     "HandedToQueue", "AgentAssigned", "SessionEnded"):  # fmt: skip
        assert expected in kinds
    logged = ok(await api.get(f"/v1/sessions/{session_id}/events", headers=ADMIN))["events"]
    assert [e["event_id"] for e in logged] == [e["event_id"] for e in events]
    [handed] = [e for e in logged if e["type"] == "HandedToQueue"]
    assert handed["data"]["priority"] == 2


async def test_r8_the_entry_form_and_the_customers_place_in_the_queue(
    api: httpx.AsyncClient,
) -> None:
    printers = await queue(api, ["nobody-yet"])
    asked, _, standing = await waiting_in(api, printers)
    assert (standing["position"], standing["session_id"]) == (1, asked["session_id"])
    form = asked["form"]
    where = f"/v1/queues/{printers}/requests/{asked['request_id']}"

    second = ok(
        await api.post(f"/v1/queues/{printers}/requests", json={**form, "name": "Finn"}), 201
    )
    refused(
        await api.get(where, headers={"Authorization": f"Bearer {second['participant_token']}"}),
        403,
    )
    refused(await api.get(where), 401)
    refused(await api.post(f"/v1/queues/{printers}/requests", json={**form, "email": "nope"}), 422)


@pytest.mark.parametrize("who", ["root", "sam"])  # an admin (issue 14.2), a supervisor (R17)
async def test_r17_an_admin_or_supervisor_requeues_assigns_and_ends_a_stranded_session(
    api: httpx.AsyncClient, who: str
) -> None:
    """A customer asks through a queue nobody serves; an admin or a supervisor moves the request
    to a queue with an agent, assigns it to that agent, and ends it; each refused when it cannot
    be done, and each recorded with who did it."""
    by = ADMIN if who == "root" else bearer("sam", "supervisor")
    nobodys = await queue(api, ["nobody-yet"])
    await agent(api, "yann", YANN)
    printers = await queue(api, ["yann"])
    form = {"name": "Gina", "email": "gina@example.com", "problem": "the screen is blank"}
    asked = ok(await api.post(f"/v1/queues/{nobodys}/requests", json=form), 201)
    session_id = asked["session_id"]
    gina = {"Authorization": f"Bearer {asked['participant_token']}"}
    steps = f"/v1/supervisor/sessions/{session_id}"
    for action, body in (("end", None), ("requeue", {"queue_id": printers}),
                         ("assign", {"agent_id": "yann"})):  # fmt: skip
        refused(await api.post(f"{steps}/{action}", json=body, headers=YANN), 403, "forbidden")
    nowhere = {"queue_id": "6a1f3c2e-0000-4000-8000-000000000000"}
    refused(await api.post(f"{steps}/requeue", json=nowhere, headers=by), 404, "unknown_queue")

    async def placed_in(queue_id: str) -> httpx.Response | None:
        where = f"/v1/queues/{queue_id}/requests/{asked['request_id']}"
        response = await api.get(where, headers=gina)
        return response if response.status_code == 200 else None

    await eventually(lambda: placed_in(nobodys), what="gina waiting in the queue nobody serves")
    requeued = ok(await api.post(f"{steps}/requeue", json={"queue_id": printers}, headers=by))
    assert requeued["session"]["status"] == "waiting"
    await eventually(lambda: placed_in(printers), what="gina's request in the printers queue")
    await offer_for(api, YANN, session_id)  # routing offers it in its new queue
    listed = ok(await api.get("/v1/supervisor/waiting", headers=by))["sessions"]
    assert [w["offered_to"] for w in listed if w["session_id"] == session_id] == [["yann"]]
    refused(await api.post(f"{steps}/offer", json={"agent_id": "yann"}, headers=by),
            409, "already_offered")  # fmt: skip

    refused(await api.post(f"{steps}/assign", json={"agent_id": "nobody"}, headers=by),
            404, "unknown_agent")  # fmt: skip
    ok(await api.put("/v1/agents/me/status", json={"status": "away"}, headers=YANN))
    refused(await api.post(f"{steps}/assign", json={"agent_id": "yann"}, headers=by),
            409, "agent_unavailable")  # fmt: skip
    ok(await api.put("/v1/agents/me/status", json={"status": "available"}, headers=YANN))
    assigned = ok(await api.post(f"{steps}/assign", json={"agent_id": "yann"}, headers=by))
    assert (assigned["status"], assigned["assigned_to"]) == ("assigned", "yann")

    async def controlled_by_yann() -> bool:
        response = await api.get(f"/v1/sessions/{session_id}", headers=YANN)
        return response.status_code == 200 and response.json()["controller"] == "yann"

    await eventually(controlled_by_yann, what="yann the controller, as after an accept")
    offers = ok(await api.get("/v1/agents/me/offers", headers=YANN))["offers"]
    assert session_id not in {o["session_id"] for o in offers}  # the open offer withdrawn
    refused(await api.post(f"{steps}/assign", json={"agent_id": "yann"}, headers=by),
            409, "not_waiting")  # fmt: skip
    refused(await api.post(f"{steps}/requeue", json={"queue_id": printers}, headers=by),
            409, "not_waiting")  # fmt: skip

    ended = ok(await api.post(f"{steps}/end", headers=by))
    assert ended["session"]["status"] == "ended"
    refused(await api.post(f"{steps}/end", headers=by), 409, "session_ended")
    logged = ok(await api.get(f"/v1/sessions/{session_id}/events", headers=by))["events"]
    kinds = [e["type"] for e in logged]
    assert kinds[-1] == "SessionEnded" and "SessionRequeued" in kinds
    assert logged[-1]["data"]["reason"] == "ended_by_admin"
    assert logged[-1]["data"]["ended_by"] == who
    assert next(e for e in logged if e["type"] == "SessionRequeued")["data"]["requeued_by"] == who


async def test_s4_an_open_live_stream_keeps_the_controllers_console_without_heartbeats(
    api: httpx.AsyncClient, gateway: GatewayService, session_svc: SessionService
) -> None:
    """Issue 14.7: S4 says a heartbeat *or an open live connection*. With a grace of 2 s and no
    heartbeat, alice's session stays while her console's live stream is open and ends
    ``console_closed`` once it closes; bob's, with no stream, ends at the first sweep."""
    site = ok(await api.get("/v1/admin/site", headers=ADMIN))["site"]
    changed = {**site, "console_grace_seconds": 2}
    ok(await api.put("/v1/admin/site", json=changed, headers=ADMIN))
    start = {"email_invite": False}
    kept = ok(await api.post("/v1/sessions", json=start, headers=ALICE), 201)["session_id"]
    lapsing = ok(await api.post("/v1/sessions", json=start, headers=BOB), 201)["session_id"]
    watching = asyncio.create_task(live_events(gateway, kept, ALICE))
    watch = ConsoleWatch(session_svc.handlers)
    await asyncio.sleep(3.5)
    assert await watch.sweep() == [UUID(lapsing)]
    watching.cancel()
    await asyncio.sleep(3.5)
    assert await watch.sweep() == [UUID(kept)]
    ended = ok(await api.get(f"/v1/sessions/{kept}/events", headers=ADMIN))["events"][-1]
    assert (ended["type"], ended["data"]["reason"]) == ("SessionEnded", "console_closed")
