"""What the end-to-end tests share: tokens, calls to the gateway, a participant's relay
connection, waiting for an offer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gateway.identity import staff_token
from media_relay import frames
from support_testkit.waiting import eventually

from .stack import JWT_SECRET

ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]


def staff(user: str, *roles: str) -> dict[str, str]:
    token = staff_token(
        JWT_SECRET, user, list(roles), issuer="support-center-dev", audience="support-api"
    )
    return {"Authorization": f"Bearer {token}"}


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


class Client:
    """A participant's connection to the relay, with what it received."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws, self.notices, self.frames = ws, [], []  # type: ignore[var-annotated]
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, reply: dict[str, Any]) -> Client:
        ws = await connect(f"{reply['relay_url']}?token={reply['participant_token']}")
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self.frames.append(bytes(frames.parse(message).payload))
                else:
                    self.notices.append(json.loads(message))
        except ConnectionClosed:
            pass  # the relay closed it (the session ended, the participant left)

    async def told(self, kind: str, **fields: Any) -> dict[str, Any]:
        def match() -> dict[str, Any] | None:
            return next(
                (
                    n
                    for n in self.notices
                    if n["type"] == kind and all(n.get(k) == v for k, v in fields.items())
                ),
                None,
            )

        found = await eventually(match, what=f"{kind} {fields}")
        assert found is not None
        return found

    async def ask(self, **request: Any) -> dict[str, Any]:
        ref = f"r{len(self.notices)}-{id(request)}"
        await self.ws.send(json.dumps({**request, "ref": ref}))
        return await self.told("ok", ref=ref)


async def offer_for(api: httpx.AsyncClient, agent: dict[str, str], session_id: str) -> str:
    async def offered() -> str | None:
        offers = (await call(api, "GET", "/v1/agents/me/offers", agent))["offers"]
        return next((o["offer_id"] for o in offers if o["session_id"] == session_id), None)

    found = await eventually(offered, within=20, what=f"an offer of {session_id}")
    assert found is not None
    return found
