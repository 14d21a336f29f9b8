"""The demo's routing beyond WebACD (issue 18): a skills match and a relaxation step (R9), a
wrap-up with a code (R11) and an overflow into another queue (R14), on queues of their own."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from support_demo.stack import staff

if TYPE_CHECKING:
    from support_demo.__main__ import Story

ADMIN = staff("admin", "admin", name="Admin")
GWEN, HANK, IVAN = (staff(who, "agent", name=who.title()) for who in ("gwen", "hank", "ivan"))
ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]


def queue(name: str, agents: list[str], **more: Any) -> dict[str, Any]:
    return {"name": name, "agent_ids": agents, "policy": "most_idle", "time_zone": "UTC",
            "hours": ALWAYS, "escalation_seconds": 600, "offer_timeout_seconds": 60,
            **more}  # fmt: skip


async def beyond_webacd(s: Story) -> None:
    s.step("Skills: the best match first, and after 2 s of waiting a wider match (R9)")
    for who, headers, skills in [
        ("hank", HANK, {"billing": 2}),  # available first: the most idle
        ("gwen", GWEN, {"billing": 5, "spanish": 3}),
        ("ivan", IVAN, {}),
    ]:
        body = {"name": who.title(), "max_sessions": 1, "skills": skills}
        await s.call("PUT", f"/v1/admin/agents/{who}", ADMIN, body)
        await s.call("PUT", "/v1/agents/me/status", headers, {"status": "available"})
    overflow = await s.call("POST", "/v1/admin/queues", ADMIN, queue("Overflow", ["ivan"]))
    billing = queue(
        "Billing", ["hank", "gwen"], required_skills=["billing"], minimum_proficiency=4,
        relaxation=[{"after_seconds": 2, "lower_minimum_to": 2}], wrap_up_seconds=300,
        wrap_up_codes=["refunded", "explained"], wrap_up_code_required=True,
        overflow_queue_id=overflow["queue_id"], overflow_after_seconds=3,
    )  # fmt: skip
    billing_id = (await s.call("POST", "/v1/admin/queues", ADMIN, billing))["queue_id"]
    print("      Billing: Hank (billing 2, idle longest) and Gwen (billing 5); needs billing 4,")
    print("      2 after 2 s; wrap-up with a code; overflow into Ivan's queue after 3 s")
    frank = await ask(s, billing_id, "Frank", "charged twice")
    offer = await s.offer_for(GWEN)
    frank_to_gwen = offer["session_id"] == frank
    print(f"      Frank's question is offered to Gwen, not Hank: {frank_to_gwen}")
    await s.call("POST", f"/v1/offers/{offer['offer_id']}/accept", GWEN)
    grace = await ask(s, billing_id, "Grace", "a refund")
    await asyncio.sleep(1)
    nothing = (await s.call("GET", "/v1/agents/me/offers", HANK))["offers"]
    print(f"      Gwen is busy; after 1 s Hank (billing 2) has {len(nothing)} offers")
    offer = await s.offer_for(HANK)  # the relaxation step, at 2 s
    grace_to_hank = offer["session_id"] == grace
    print(f"      past 2 s the minimum is 2: Grace's question offered to Hank: {grace_to_hank}")
    await s.call("POST", f"/v1/offers/{offer['offer_id']}/accept", HANK)
    s.observed["skills"] = {
        "frank_to_gwen": frank_to_gwen,
        "hank_offers_at_1_s": len(nothing),
        "grace_to_hank_after_relaxing": grace_to_hank,
    }

    s.step("Wrap-up with a code, and an overflow while both are busy (R11, R14)")
    await s.call("POST", f"/v1/sessions/{frank}/end", GWEN)
    me = await wrapping(s, GWEN)
    [wrap_up] = me["wrap_ups"]
    print(f"      Gwen ended Frank's session and wraps it up (codes {wrap_up['codes']}):"
          " her slot stays taken")  # fmt: skip
    ivy = await ask(s, billing_id, "Ivy", "an invoice in the wrong currency")
    offer = await s.offer_for(IVAN)  # nobody in Billing is free: past 3 s, the overflow queue
    ivy_to_ivan = offer["session_id"] == ivy
    print(f"      Ivy's question, 3 s in Billing, is offered in Overflow to Ivan: {ivy_to_ivan}")
    path = f"/v1/agents/me/wrap-ups/{frank}/finish"
    await s.refused("POST", path, GWEN, {})  # the queue requires a code
    await s.call("POST", path, GWEN, {"code": "refunded"})
    print("      Gwen finishes the wrap-up with the code refunded: her slot is free")
    s.observed["wrap_up_and_overflow"] = {"codes": wrap_up["codes"], "ivy_to_ivan": ivy_to_ivan}


async def ask(s: Story, queue_id: str, name: str, problem: str) -> str:
    """A customer's entry form; the session it opened."""
    form = {"name": name, "email": f"{name.lower()}@example.com", "problem": problem}
    asked = await s.call("POST", f"/v1/queues/{queue_id}/requests", None, form)
    return str(asked["session_id"])


async def wrapping(s: Story, agent: dict[str, str]) -> dict[str, Any]:
    """The agent as routing sees it once a wrap-up started (events travel between services)."""
    for _ in range(200):
        me = (await s.call("GET", "/v1/agents/me", agent))["agent"]
        if me.get("wrap_ups"):
            return dict(me)
        await asyncio.sleep(0.05)
    raise SystemExit("demo: no wrap-up began within 10 s")
