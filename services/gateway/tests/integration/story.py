"""What the gateway's story tests share: staff tokens, and the steps a console or a customer
page takes (a queue, an agent, an offer awaited, the live stream read, an entry form sent)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from gateway.bootstrap import GatewayService
from support_testkit.waiting import eventually

from .conftest import bearer

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
