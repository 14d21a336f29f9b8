"""The rules beyond WebACD through the gateway's HTTP API (R9, R12, R15-R18), services on
the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from support_testkit.waiting import eventually

from .conftest import bearer
from .story import ADMIN, ALICE, ALWAYS, YANN, ZOE, agent, offer_for, ok, queue, refused, waiting_in

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


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


async def test_r17_a_supervisor_lists_live_sessions_and_takes_one_over(
    api: httpx.AsyncClient,
) -> None:
    """Sam, a supervisor, sees alice's live session with its customer, takes it over (alice
    stays as assistant and may no longer end it), and ends it as its controller; the log names
    him. A csr may neither list nor take over, an admin may list but not take over."""
    sam = bearer("sam", "supervisor")
    start = {"email_invite": False}
    started = ok(await api.post("/v1/sessions", json=start, headers=ALICE), 201)
    s = started["session_id"]
    ok(await api.post("/v1/join", json={"session_number": started["session_number"], "name": "Cy"}))
    live = ok(await api.get("/v1/supervisor/sessions?status=live", headers=sam))["sessions"]
    (row,) = [r for r in live if r["session_id"] == s]
    assert (row["status"], row["controller"], row["controller_name"]) == ("live", "alice", "alice")
    assert [p["name"] for p in row["participants"]] == ["alice", "Cy"]
    assert row["session_number_display"] == started["session"]["session_number_display"]
    refused(await api.get("/v1/supervisor/sessions", headers=ALICE), 403, "forbidden")
    refused(await api.get("/v1/supervisor/sessions?status=ended", headers=sam), 422)
    ok(await api.get("/v1/supervisor/sessions", headers=ADMIN))

    take = f"/v1/supervisor/sessions/{s}/take-over"
    refused(await api.post(take, headers=ADMIN), 403, "forbidden")
    taken = ok(await api.post(take, headers=sam))
    assert taken["session"]["controller"] == "sam" and taken["participant_token"]
    roles = {p["id"]: p["role"] for p in taken["session"]["participants"]}
    assert (roles["sam"], roles["alice"]) == ("controller", "assistant")
    refused(await api.post(take, headers=sam), 422, "already_controller")
    refused(await api.post(f"/v1/sessions/{s}/end", headers=ALICE), 403, "not_controller")
    live = ok(await api.get("/v1/supervisor/sessions?status=live", headers=sam))["sessions"]
    assert [r["controller_name"] for r in live if r["session_id"] == s] == ["sam"]

    ended = ok(await api.post(f"/v1/sessions/{s}/end", headers=sam))  # as the controller now
    assert ended["session"]["status"] == "ended"
    logged = ok(await api.get(f"/v1/sessions/{s}/events", headers=sam))["events"]
    moved = next(e["data"] for e in logged if e["type"] == "ControlTransferred")
    assert moved == {
        "from_csr": "alice", "to_csr": "sam", "voice_continues": False, "taken_over_by": "sam"
    }  # fmt: skip
    assert logged[-1]["data"]["ended_by"] == "sam"
    refused(await api.post(take, headers=sam), 409, "session_ended")
    listed = ok(await api.get("/v1/supervisor/sessions", headers=sam))["sessions"]
    assert s not in {r["session_id"] for r in listed}
