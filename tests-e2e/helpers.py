"""What the end-to-end tests share: tokens, calls to the gateway, a participant's relay
connection, waiting for an offer."""

from __future__ import annotations

from typing import Any

import httpx

from support_demo.relay_client import RelayClient
from support_demo.stack import staff
from support_testkit.waiting import eventually

ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]


ROOT, ALICE, BOB, ZOE = (
    staff("root", "admin"),
    staff("alice", "csr", "agent"),
    staff("bob", "csr"),
    staff("zoe", "agent"),
)


def bearer(reply: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {reply['participant_token']}"}


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


Client = RelayClient  # a participant's relay connection, as the demo holds it


async def offer_for(api: httpx.AsyncClient, agent: dict[str, str], session_id: str) -> str:
    async def offered() -> str | None:
        offers = (await call(api, "GET", "/v1/agents/me/offers", agent))["offers"]
        return next((o["offer_id"] for o in offers if o["session_id"] == session_id), None)

    found = await eventually(offered, within=20, what=f"an offer of {session_id}")
    assert found is not None
    return found
