"""Issue 15.1, fast: every service started in this process by the same ``start()`` its process
runs, on in-memory logs and one in-memory broker (what the embedded demo runs on), works as a
whole: a csr's start goes through the gateway to session-svc and invite-svc, its events reach
every subscriber of the exchange, routing-svc takes an agent's status, and everything stops."""

from __future__ import annotations

import pytest

from support_demo.stack import staff
from support_demo.wiring import embedded
from support_testkit import eventually

pytestmark = pytest.mark.timeout(60)


async def test_every_service_started_by_its_start_works_in_one_process() -> None:
    async with embedded() as demo:
        admin, alice = staff("root", "admin"), staff("alice", "csr", name="Alice")
        started = await demo.api.post("/v1/sessions", json={"email_invite": True}, headers=alice)
        assert started.status_code == 201, started.text
        answer = started.json()
        assert answer["draft"] is not None  # invite-svc answered through the in-memory broker
        agent = {"name": "Zoe", "max_sessions": 1}
        configured = await demo.api.put("/v1/admin/agents/zoe", json=agent, headers=admin)
        assert configured.status_code == 200, configured.text
        zoe = staff("zoe", "agent", name="Zoe")
        status = {"status": "available"}
        changed = await demo.api.put("/v1/agents/me/status", json=status, headers=zoe)
        assert changed.status_code == 200, changed.text
        published = {"session.SessionStarted", "routing.AgentStatusChanged"}
        await eventually(lambda: published <= set(demo.published), what="the events published")
        session = await demo.api.get(f"/v1/sessions/{answer['session_id']}", headers=alice)
        assert session.json()["controller"] == "alice"
