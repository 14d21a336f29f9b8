"""Calls to the gateway as the end-to-end and container tests make them: a call that must
answer a given status (a refusal with the contract's error body), and waiting for an offer."""

from __future__ import annotations

from typing import Any

import httpx

from support_testkit.waiting import eventually

ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]


async def call(
    api: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], body: Any = None, *,
    status: int = 200,
) -> dict[str, Any]:  # fmt: skip
    response = await api.request(method, path, json=body, headers=headers)
    assert response.status_code == status, f"{method} {path}: {response.text}"
    answer: dict[str, Any] = response.json()
    if status >= 400:
        assert answer["error"]["code"] and answer["error"]["message"]
    return answer


async def offer_for(api: httpx.AsyncClient, agent: dict[str, str], session_id: str) -> str:
    async def offered() -> str | None:
        offers = (await call(api, "GET", "/v1/agents/me/offers", agent))["offers"]
        return next((o["offer_id"] for o in offers if o["session_id"] == session_id), None)

    found: str | None = await eventually(offered, within=20, what=f"an offer of {session_id}")
    assert found is not None
    return found


async def printers_desk(api: httpx.AsyncClient, admin: dict[str, str], zoe: dict[str, str]) -> str:
    """An admin sets up the story's desk: alice and zoe are agents (alice may hand off, S9),
    zoe is available, and a queue "Printers" of zoe's, open always; its id."""
    for agent in ("alice", "zoe"):
        body = {"name": agent.title(), "max_sessions": 2}
        await call(api, "PUT", f"/v1/admin/agents/{agent}", admin, body)
    await call(api, "PUT", "/v1/agents/me/status", zoe, {"status": "available"})
    queue = {"name": "Printers", "agent_ids": ["zoe"], "policy": "most_idle",
             "time_zone": "Europe/Prague", "hours": ALWAYS, "escalation_seconds": 600,
             "offer_timeout_seconds": 60}  # fmt: skip
    created = await call(api, "POST", "/v1/admin/queues", admin, queue, status=201)
    return str(created["queue_id"])
