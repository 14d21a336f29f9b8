"""The whole story through the gateway's HTTP API (E1), services on the real RabbitMQ and
PostgreSQL: a csr starts with the e-mail draft, customers join by link and by number, an
assistant joins, control goes and comes back, a hand-off to a queue (345 characters; 346 is
refused), an agent accepts and ends it; the live stream carries it all in order. And the entry
form of a queue with the customer's position."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest

from gateway.bootstrap import GatewayService
from session_svc.bootstrap import SessionService
from session_svc.console_watch import ConsoleWatch
from support_testkit.waiting import eventually

from .conftest import bearer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]
ADMIN = bearer("root", "admin")
ALICE = bearer("alice", "csr", "agent")
BOB = bearer("bob", "csr")
ZOE = bearer("zoe", "csr", "agent")
YANN = bearer("yann", "csr", "agent")


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(response: httpx.Response, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error


async def queue(api: httpx.AsyncClient, agents: list[str], **more: object) -> str:
    definition = {
        "name": "Printers",
        "agent_ids": agents,
        "policy": "most_idle",
        "time_zone": "Europe/Prague",
        "hours": ALWAYS,
        "escalation_seconds": 600,
        "offer_timeout_seconds": 30,
        **more,
    }
    configured = ok(await api.post("/v1/admin/queues", json=definition, headers=ADMIN), 201)
    return str(configured["queue_id"])


async def agent(
    api: httpx.AsyncClient, who: str, headers: dict[str, str], **skills: int
) -> dict[str, Any]:
    body = {"name": who.title(), "max_sessions": 2, **({"skills": skills} if skills else {})}
    configured = ok(await api.put(f"/v1/admin/agents/{who}", json=body, headers=ADMIN))
    ok(await api.put("/v1/agents/me/status", json={"status": "available"}, headers=headers))
    return configured


async def offer_for(api: httpx.AsyncClient, headers: dict[str, str], session_id: str) -> str:
    for _ in range(500):
        offers = ok(await api.get("/v1/agents/me/offers", headers=headers))["offers"]
        mine = [o for o in offers if o["session_id"] == session_id]
        if mine:
            return str(mine[0]["offer_id"])
        await asyncio.sleep(0.02)
    raise AssertionError(f"no offer of {session_id}")


async def live_events(
    gateway: GatewayService, session_id: str, headers: dict[str, str]
) -> list[dict[str, Any]]:
    """Read the live stream until the session's end."""
    events: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=gateway.url, timeout=60) as client:
        async with client.stream(
            "GET", f"/v1/sessions/{session_id}/live", headers=headers
        ) as stream:
            assert stream.status_code == 200
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line[6:]))
                    if events[-1]["type"] == "SessionEnded":
                        break
    return events


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


async def waiting_in(
    api: httpx.AsyncClient, queue_id: str
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """Erin asks through the queue's entry form: the answer (with the ``form`` she sent), her
    headers, and her place once routing has queued her (as the event arrives)."""
    form = {"name": "Erin", "email": "erin@example.com", "problem": "the printer smokes"}
    asked = ok(await api.post(f"/v1/queues/{queue_id}/requests", json=form), 201)
    erin = {"Authorization": f"Bearer {asked['participant_token']}"}
    where = f"/v1/queues/{queue_id}/requests/{asked['request_id']}"

    async def placed() -> httpx.Response | None:
        response = await api.get(where, headers=erin)
        return response if response.status_code == 200 else None

    standing = ok(await eventually(placed, what=f"erin's place in the queue {queue_id}"))
    return {**asked, "form": form}, erin, standing


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


async def test_r12_an_agent_says_why_it_is_away_from_the_site_s_list(
    api: httpx.AsyncClient,
) -> None:
    ok(await api.put("/v1/admin/agents/yann", json={"name": "Yann", "max_sessions": 1},
                     headers=ADMIN))  # fmt: skip
    defaults = ok(await api.get("/v1/status-reasons", headers=YANN))["reasons"]
    assert "lunch" in defaults
    reasons = {"reasons": ["lunch", "coaching"]}
    refused(await api.put("/v1/admin/status-reasons", json=reasons, headers=YANN), 403)
    assert ok(await api.put("/v1/admin/status-reasons", json=reasons, headers=ADMIN)) == reasons
    assert ok(await api.get("/v1/status-reasons", headers=YANN)) == reasons
    away = ok(await api.put("/v1/agents/me/status", json={"status": "away", "reason": "coaching"},
                            headers=YANN))["agent"]  # fmt: skip
    assert (away["status"], away["reason"]) == ("away", "coaching")
    assert "away:coaching" in away["time_in_state"]
    refused(await api.put("/v1/agents/me/status", json={"status": "away", "reason": "training"},
                          headers=YANN), 422, "unknown_reason")  # fmt: skip
    refused(await api.put("/v1/agents/me/status", json={"status": "available", "reason": "lunch"},
                          headers=YANN), 422, "reason_not_expected")  # fmt: skip
    refused(await api.put("/v1/admin/status-reasons", json={"reasons": ["Lunch Break"]},
                          headers=ADMIN), 422)  # fmt: skip

    async def seen_away() -> dict[str, Any] | None:  # routing's view follows its log
        agent: dict[str, Any] = ok(await api.get("/v1/agents/me", headers=YANN))["agent"]
        return agent if agent.get("reason") == "coaching" else None

    seen = await eventually(seen_away, what="yann away, coaching, in routing's view")
    assert (seen["status"], seen["offers"], seen["eligible"]) == ("away", [], False)
    back = ok(await api.put("/v1/agents/me/status", json={"status": "available"}, headers=YANN))
    assert "reason" not in back["agent"]


async def test_r15_a_queue_as_full_as_it_takes_refuses_the_entry_form_and_hand_offs(
    api: httpx.AsyncClient,
) -> None:
    await agent(api, "alice", ALICE)
    small = await queue(api, ["nobody-yet"], max_waiting=1)
    first, erin, _ = await waiting_in(api, small)
    form = first["form"]
    refused(await api.post(f"/v1/queues/{small}/requests", json={**form, "name": "Finn"}),
            409, "queue_full")  # fmt: skip
    started = ok(await api.post("/v1/sessions", json={"email_invite": False}, headers=ALICE), 201)
    path = f"/v1/sessions/{started['session_id']}/handoff"
    full = await api.post(path, json={"queue_id": small}, headers=ALICE)
    refused(full, 409, "queue_full")
    assert "the most it takes" in full.json()["error"]["message"]
    ok(await api.post(f"/v1/sessions/{first['session_id']}/leave", headers=erin))  # abandoned

    async def room() -> dict[str, Any] | None:
        answer = await api.post(path, json={"queue_id": small}, headers=ALICE)
        return answer.json() if answer.status_code == 200 else None

    handed = await eventually(room, what="room in the queue once erin left")
    assert handed["session"]["status"] == "waiting"


async def test_r18_a_preferred_agent_first_and_a_dated_closing(api: httpx.AsyncClient) -> None:
    await agent(api, "zoe", ZOE)  # available first: the most idle
    await agent(api, "yann", YANN)
    printers = await queue(api, ["zoe", "yann"], preferred_agent_seconds=60)
    form = {"name": "Erin", "email": "erin@example.com", "problem": "again the printer",
            "preferred_agent": "yann"}  # fmt: skip
    asked = ok(await api.post(f"/v1/queues/{printers}/requests", json=form), 201)
    await offer_for(api, YANN, asked["session_id"])  # yann, whom she asked for, first
    offers = ok(await api.get("/v1/agents/me/offers", headers=ZOE))["offers"]
    assert asked["session_id"] not in {o["session_id"] for o in offers}

    today = datetime.now(UTC).date().isoformat()  # closed today, whatever the weekly hours say
    closed = await queue(api, ["zoe"], time_zone="UTC", exceptions=[{"day": today}])
    refused(await api.post(f"/v1/queues/{closed}/requests", json=form), 409, "queue_closed")
    halves = {"day": today, "opens": "10:00:00"}  # special hours need both ends
    refused(await api.post("/v1/admin/queues", json={"name": "Q", "agent_ids": [],
            "policy": "most_idle", "time_zone": "UTC", "hours": ALWAYS, "escalation_seconds": 60,
            "offer_timeout_seconds": 30, "exceptions": [halves]}, headers=ADMIN), 422)  # fmt: skip


async def test_r9_skills_from_the_admin_api_to_the_offer(api: httpx.AsyncClient) -> None:
    configured = await agent(api, "zoe", ZOE, billing=2)  # available first: the most idle
    assert configured["agent"]["skills"] == {"billing": 2}
    await agent(api, "yann", YANN, billing=4, spanish=3)
    billing = await queue(api, ["zoe", "yann"], required_skills=["billing"], minimum_proficiency=3)
    form = {"name": "Erin", "email": "erin@example.com", "problem": "a double charge"}
    asked = ok(await api.post(f"/v1/queues/{billing}/requests", json=form), 201)
    await offer_for(api, YANN, asked["session_id"])  # zoe is idle longer, but below 3
    offers = ok(await api.get("/v1/agents/me/offers", headers=ZOE))["offers"]
    assert asked["session_id"] not in {o["session_id"] for o in offers}
    await agent(api, "alice", ALICE)  # a WebACD agent may hand off
    started = ok(await api.post("/v1/sessions", json={"email_invite": False}, headers=ALICE), 201)
    path = f"/v1/sessions/{started['session_id']}/handoff"
    refused(await api.post(path, json={"agent_ids": ["yann"], "skills": ["spanish"]},
            headers=ALICE), 422)  # fmt: skip
    ok(await api.post(path, json={"queue_id": billing, "skills": ["spanish"]}, headers=ALICE))
    await offer_for(api, YANN, started["session_id"])  # the hand-off's skill: yann has it
    refused(await api.put("/v1/admin/agents/zoe", json={"name": "Zoe", "max_sessions": 2,
            "skills": {"billing": 6}}, headers=ADMIN), 422)  # fmt: skip
    refused(await api.post("/v1/admin/queues", json={"name": "Q", "agent_ids": [],
            "policy": "most_idle", "time_zone": "UTC", "hours": ALWAYS, "escalation_seconds": 60,
            "offer_timeout_seconds": 30, "required_skills": ["billing"],
            "relaxation": [{"after_seconds": 30}]}, headers=ADMIN), 422)  # fmt: skip


async def test_r16_a_queue_s_statistics_through_the_gateway(api: httpx.AsyncClient) -> None:
    await agent(api, "zoe", ZOE)
    printers = await queue(api, ["zoe"], service_level_seconds=30)
    form = {"name": "Erin", "email": "erin@example.com", "problem": "the printer smokes"}
    asked = ok(await api.post(f"/v1/queues/{printers}/requests", json=form), 201)
    offer = await offer_for(api, ZOE, asked["session_id"])
    ok(await api.post(f"/v1/offers/{offer}/accept", headers=ZOE))
    refused(await api.get(f"/v1/queues/{printers}/stats", headers=ZOE), 403)

    async def answered() -> dict[str, Any] | None:  # routing's view follows its log
        [stats] = ok(await api.get(f"/v1/queues/{printers}/stats", headers=ADMIN))["queues"]
        return stats if stats["interval"]["answered"] == 1 else None

    stats = await eventually(answered, what="the answered session in the queue's figures")
    assert (stats["name"], stats["waiting"], stats["agents"]["busy"]) == ("Printers", 0, 0)
    assert stats["agents"]["available"] == 1  # zoe takes 2: one slot free
    interval = stats["interval"]
    # (offered counts in the interval it was queued in: maybe the one before, at a boundary)
    assert (interval["answered_in_time"], interval["service_level"]) == (1, 1.0)
    every = ok(await api.get("/v1/queues/stats", headers=bearer("sam", "supervisor")))["queues"]
    assert printers in {q["queue_id"] for q in every}  # R17: a supervisor sees every queue
    nowhere = "6a1f3c2e-0000-4000-8000-000000000000"
    refused(await api.get(f"/v1/queues/{nowhere}/stats", headers=ADMIN), 404, "unknown_queue")
