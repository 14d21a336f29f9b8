"""The authorisation matrix (E1): every route against every kind of caller. What a caller may
not do is refused, 401 without credentials and 403 with the wrong ones, and changes nothing;
what it may do is not refused for who it is. Nobody reaches another csr's session by its id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from .conftest import bearer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]
CALLERS = [
    "anonymous", "customer", "foreign_customer", "csr", "controller", "admin", "agent",
    "supervisor",
]  # fmt: skip
ANYONE = {*CALLERS, "requester"}  # requester: the customer of an entry form


def queue_definition(name: str, agents: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "agent_ids": agents,
        "policy": "everybody",
        "time_zone": "UTC",
        "hours": ALWAYS,
        "escalation_seconds": 60,
        "offer_timeout_seconds": 30,
    }


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    allowed: frozenset[str]
    body: dict[str, Any] | None = None
    try_allowed: bool = True  # False: allowed callers are not tried (it would end the session)


def routes(s: str, queue: str, request: str, offer: str) -> list[Route]:
    def r(
        method: str, path: str, allowed: set[str], body: Any = None, *, tried: bool = True
    ) -> Route:
        return Route(method, path, frozenset(allowed), body, tried)

    session = {"controller", "customer"}
    definition = queue_definition("Q", [])
    site = {
        "multi_session_allowed": True,
        "max_sessions_per_csr": 3,
        "multiple_customers_allowed": True,
        "max_customers_per_session": 5,
        "console_grace_seconds": 60,
        "invitation_ttl_seconds": 3600,
    }
    csr = {"session_mode": "single", "is_webacd_agent": False, "voice_supported": True}
    staff_csr = {"csr", "controller", "agent"}
    overseers = {"supervisor", "admin"}  # R17: a supervisor steps in where an admin may
    return [
        r("POST", "/v1/sessions", staff_csr, {"email_invite": False}),
        r("GET", f"/v1/sessions/{s}", session),
        r("GET", f"/v1/sessions/{s}/events", {"controller", "supervisor", "admin"}),
        r("GET", f"/v1/sessions/{s}/live?after=1000", session, tried=False),
        r("POST", f"/v1/sessions/{s}/heartbeat", {"controller"}),
        r(
            "POST",
            f"/v1/sessions/{s}/invitations",
            {"controller"},
            {"role": "customer", "channel": "website"},
        ),
        r("POST", f"/v1/sessions/{s}/active-customer", {"controller"}, {"participant_id": "x"}),
        r("POST", f"/v1/sessions/{s}/control", {"controller"}, {"to": "nobody"}),
        r("POST", f"/v1/sessions/{s}/handoff", {"controller"}, {"queue_id": queue}, tried=False),
        r("POST", f"/v1/sessions/{s}/leave", session, tried=False),
        r("POST", f"/v1/sessions/{s}/end", {"controller"}, tried=False),
        r("POST", "/v1/join", ANYONE, {"session_number": "000000000", "name": "X"}),
        r("POST", "/v1/assist", staff_csr, {"session_number": "000000000"}),
        r("GET", "/v1/admin/site", {"admin"}),
        r("PUT", "/v1/admin/site", {"admin"}, site),
        r("POST", "/v1/admin/queues", {"admin"}, definition),
        r("PUT", "/v1/admin/agents/someone", {"admin"}, {"name": "Someone", "max_sessions": 1}),
        r("PUT", "/v1/admin/csrs/someone", {"admin"}, csr),
        r("POST", f"/v1/supervisor/sessions/{s}/end", overseers, tried=False),
        r("POST", f"/v1/supervisor/sessions/{s}/requeue", overseers, {"queue_id": queue}),
        r("POST", f"/v1/supervisor/sessions/{s}/assign", overseers, {"agent_id": "zoe"}),
        r("POST", f"/v1/supervisor/sessions/{s}/offer", overseers, {"agent_id": "zoe"}),
        r("GET", "/v1/supervisor/waiting", overseers),
        r("GET", "/v1/supervisor/sessions?status=live", overseers),
        r("POST", f"/v1/supervisor/sessions/{s}/take-over", {"supervisor"}, tried=False),
        r("PUT", "/v1/agents/me/status", {"agent"}, {"status": "away"}),
        r("GET", "/v1/status-reasons", {"csr", "controller", "agent", *overseers}),
        r("PUT", "/v1/admin/status-reasons", {"admin"}, {"reasons": ["lunch", "training"]}),
        r("GET", "/v1/me", {"csr", "controller", "agent", *overseers}),
        r("GET", "/v1/queues/stats", overseers),
        r("GET", f"/v1/queues/{queue}/stats", overseers),
        r("GET", "/v1/agents/me/offers", {"agent"}),
        r("GET", "/v1/agents/me", {"agent"}),
        r("POST", f"/v1/agents/me/wrap-ups/{s}/finish", {"agent"}, {}),
        r("POST", f"/v1/offers/{offer}/accept", {"agent"}),
        r("POST", f"/v1/offers/{offer}/decline", {"agent"}),
        r(
            "POST",
            f"/v1/queues/{queue}/requests",
            ANYONE,
            {"name": "F", "email": "f@example.com", "problem": "p"},
        ),
        r("GET", f"/v1/queues/{queue}/requests/{request}", {"requester"}),
    ]


async def test_e1_each_caller_against_each_route(api: httpx.AsyncClient) -> None:
    admin = bearer("root", "admin")
    await api.put("/v1/admin/agents/zoe", json={"name": "Zoe", "max_sessions": 1}, headers=admin)
    started = (
        await api.post("/v1/sessions", json={"email_invite": False}, headers=bearer("alice", "csr"))
    ).json()
    s = started["session_id"]
    other = (
        await api.post("/v1/sessions", json={"email_invite": False}, headers=bearer("olga", "csr"))
    ).json()
    joined = await api.post(
        "/v1/join", json={"session_number": started["session_number"], "name": "Carol"}
    )
    foreign = await api.post(
        "/v1/join", json={"session_number": other["session_number"], "name": "Eve"}
    )
    definition = queue_definition("Matrix", ["zoe"])
    queue = (await api.post("/v1/admin/queues", json=definition, headers=admin)).json()["queue_id"]
    form = {"name": "Finn", "email": "finn@example.com", "problem": "p"}
    asked = (await api.post(f"/v1/queues/{queue}/requests", json=form)).json()

    def token(reply: dict[str, Any]) -> dict[str, str]:
        return {"Authorization": f"Bearer {reply['participant_token']}"}

    headers: dict[str, dict[str, str]] = {
        "anonymous": {},
        "customer": token(joined.json()),
        "foreign_customer": token(foreign.json()),
        "csr": bearer("bob", "csr"),
        "controller": bearer("alice", "csr"),
        "admin": admin,
        "agent": bearer("zoe", "agent"),
        "supervisor": bearer("sam", "supervisor"),
        "requester": token(asked),
    }
    wrong: list[str] = []
    for route in routes(s, queue, asked["request_id"], "00000000-0000-4000-8000-000000000000"):
        for who in [*CALLERS, "requester"]:
            if who in route.allowed and not route.try_allowed:
                continue
            response = await api.request(
                route.method, route.path, json=route.body, headers=headers[who]
            )
            status = response.status_code
            if who in route.allowed:
                ok = status not in (401, 403)
            else:
                ok = status == (401 if who == "anonymous" else 403)
                ok = ok and "error" in response.json()
            if not ok:
                wrong.append(
                    f"{route.method} {route.path} as {who}: {status} {response.text[:120]}"
                )
    assert not wrong, "\n".join(wrong)

    # nothing the refusals asked for happened
    session = (await api.get(f"/v1/sessions/{s}", headers=headers["controller"])).json()
    assert session["status"] == "live" and session["controller"] == "alice"
    assert [p["role"] for p in session["participants"]] == ["controller", "customer"]
