"""``make demo``: the story of REQUIREMENTS.md as far as it is built, one step at a time, with
the events each step caused and every refusal along the way.

Built: session-svc (S1-S12), invite-svc (I1-I4) and routing-svc (R1-R8) on the event log,
outbox and inbox. Not yet built: the media relay (#6) and the gateway (#7); the demo calls the
services' command doors the way the gateway will.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import structlog
import uvloop

from support_demo.wiring import Demo, Refusal, choose

STEPS = 14


def short(value: object, most: int = 48) -> str:
    text = str(value)
    return text if len(text) <= most else f"{text[: most - 12]}...({len(text)} chars)"


class Story:
    def __init__(self, demo: Demo) -> None:
        self.demo, self.step_no, self.seen = demo, 0, 0
        self.session_id = ""

    def step(self, text: str) -> None:
        self.step_no += 1
        print(f"\n[{self.step_no}/{STEPS}] {text}", flush=True)

    async def do(self, command_type: str, actor: str | None, **fields: Any) -> dict[str, Any]:
        command = {
            "command_id": str(uuid4()),
            "correlation_id": str(uuid4()),
            "actor_id": actor,
            **fields,
        }
        reply = await self.demo.call(command_type, command)
        await self.show_new_events()
        return reply

    async def refused(self, command_type: str, actor: str | None, **fields: Any) -> None:
        try:
            await self.do(command_type, actor, **fields)
        except Refusal as refusal:
            print(f"      refused, as it should be: {refusal}")
            return
        raise SystemExit(f"demo: {command_type} by {actor} should have been refused")

    async def refused_in_time(
        self, code: str, command_type: str, actor: str | None, **fields: Any
    ) -> None:
        """Refused with ``code`` once the last step's events reached the other services."""
        for _ in range(100):
            try:
                await self.do(command_type, actor, **fields)
            except Refusal as refusal:
                if refusal.code == code:
                    print(f"      refused, as it should be: {refusal}")
                    return
            await asyncio.sleep(0.05)
        raise SystemExit(f"demo: {command_type} was not refused with {code} within 5 s")

    async def _poll(self, command_type: str, **fields: Any) -> dict[str, Any]:
        command = {"command_id": str(uuid4()), "correlation_id": str(uuid4()), **fields}
        return await self.demo.call(command_type, {"actor_id": "demo", **command})

    async def agent(self, agent_id: str) -> dict[str, Any] | None:
        """The agent as routing sees it; None while its view has yet to catch up."""
        try:
            return dict((await self._poll("GetAgent", agent_id=agent_id))["agent"])
        except Refusal as refusal:
            if refusal.code != "unknown_agent":
                raise
            return None

    async def offer_for(self, agent_id: str) -> dict[str, Any]:
        """The agent's open offer, once routing has made it (events travel between services)."""
        for _ in range(200):
            agent = await self.agent(agent_id)
            if agent and agent["offers"]:
                return dict(agent["offers"][0])
            await asyncio.sleep(0.05)
        raise SystemExit(f"demo: no offer reached {agent_id} within 10 s")

    async def until_controller(self, agent_id: str) -> None:
        for _ in range(200):
            session = (await self._poll("GetSession", session_id=self.session_id))["session"]
            if session["controller"] == agent_id:
                await self.show_new_events()
                return
            await asyncio.sleep(0.05)
        raise SystemExit(f"demo: {agent_id} did not become controller within 10 s")

    async def until_free(self, agent_id: str) -> None:
        for _ in range(200):
            agent = await self.agent(agent_id)
            if agent and not agent["sessions"]:
                return
            await asyncio.sleep(0.05)
        raise SystemExit(f"demo: {agent_id} still held a session after 10 s")

    async def show_new_events(self) -> None:
        if not self.session_id:
            return
        reply = await self.demo.call(
            "GetSessionEvents",
            {
                "command_id": str(uuid4()),
                "correlation_id": str(uuid4()),
                "actor_id": "demo",
                "session_id": self.session_id,
            },
        )
        for event in reply["events"][self.seen :]:
            data = ", ".join(f"{k}={short(v)}" for k, v in event["data"].items() if v is not None)
            print(f"      v{event['stream_version']:<2} session.{event['type']:<22} {data}")
        self.seen = len(reply["events"])


def token_of(join_url: str) -> str:
    return parse_qs(urlsplit(join_url).query)["token"][0]


async def walk(story: Story) -> None:
    story.step("An admin makes Carol a WebACD agent and sets up the Printers queue (R1, R3)")
    await story.do(
        "ChangeCsrSettings",
        "admin",
        csr_id="carol",
        settings={"session_mode": "single", "is_webacd_agent": True, "voice_supported": True},
    )
    print("      carol: WebACD agent, voice supported")
    await story.do("ConfigureAgent", "admin", agent_id="dave", name="Dave", max_sessions=2)
    await story.do("ChangeAgentStatus", "dave", agent_id="dave", status="available")
    always = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]
    queue = {
        "name": "Printers",
        "agent_ids": ["dave"],
        "policy": "most_idle",
        "time_zone": "Europe/Prague",
        "hours": always,
        "escalation_seconds": 120,
        "offer_timeout_seconds": 60,
    }
    queue_id = (await story.do("ConfigureQueue", "admin", definition=queue))["queue_id"]
    print("      queue Printers: agent Dave (2 sessions at once, available), most idle first")

    story.step("Alice starts a session; it comes with an e-mail draft for her own mail (S1, S3)")
    session = (await story.do("StartSession", "alice", csr_id="alice", csr_name="Alice"))["session"]
    story.session_id = sid = session["session_id"]
    await story.show_new_events()
    number = session["session_number"]
    draft = await story.do(
        "IssueInvitation",
        "alice",
        session_id=sid,
        role="customer",
        channel="own_email",
        to="bob@example.com",
    )
    mailto = short(draft["draft"]["mailto"], 60)
    print(f"      session {session['session_number_display']}; draft: {mailto}")

    story.step("Alice tries a second session in single-session mode (S2)")
    await story.refused("StartSession", "alice", csr_id="alice", csr_name="Alice")

    story.step("Bob joins with the link in Alice's e-mail; Dana on the website by number (I1, S5)")
    bob = await story.do("RedeemInvitation", None, token=token_of(draft["join_url"]), name="Bob")
    site = (
        await story.do(
            "IssueInvitation", "alice", session_id=sid, role="customer", channel="website"
        )
    )["website"]
    print(f"      website steps for Dana: {'; '.join(site['steps'])}")
    dana = await story.do("JoinAsCustomer", None, session_number=number, name="Dana")
    bob_id, dana_id = bob["participant_id"], dana["participant_id"]

    story.step("Carol is invited to assist by instant message; the link works once (I2, S7)")
    im = await story.do(
        "IssueInvitation", "alice", session_id=sid, role="csr", channel="instant_message"
    )
    print(f"      message: {short(im['instant_message']['text'], 70)}")
    await story.do("RedeemInvitation", "carol", token=token_of(im["join_url"]), name="Carol")
    await story.refused("RedeemInvitation", "dave", token=token_of(im["join_url"]), name="Dave")

    story.step("Alice shares her desktop and chats; then Dana becomes the active customer (S5)")
    await story.do(
        "StartActivity", "alice", session_id=sid, kind="desktop_sharing", participant_id="alice"
    )
    await story.do("StartActivity", "alice", session_id=sid, kind="chat", participant_id="alice")
    await story.do("SelectActiveCustomer", "alice", session_id=sid, participant_id=dana_id)
    print("      the desktop sharing ended with the switch; the chat goes on")

    story.step("Carol, an assistant, may not end the session (S8, S10)")
    await story.refused("EndSession", "carol", session_id=sid)

    story.step("Alice transfers control to Carol: every activity ends (S8)")
    await story.do("StartActivity", "alice", session_id=sid, kind="voice", participant_id="alice")
    await story.do("TransferControl", "alice", session_id=sid, to_csr="carol")

    story.step("Carol hands off to the Printers queue: 346 characters refused, 345 accepted (S9)")
    await story.refused(
        "HandOffToQueue", "carol", session_id=sid, queue_id=queue_id, message="m" * 346
    )
    await story.do(
        "HandOffToQueue",
        "carol",
        session_id=sid,
        queue_id=queue_id,
        message="Customer needs a printer specialist. " + "m" * 308,
    )
    print("      the customers wait; Carol has left")

    story.step("Bob leaves while waiting (S11); new customers cannot join a waiting session")
    await story.do("Leave", bob_id, session_id=sid, participant_id=bob_id)
    await story.refused("JoinAsCustomer", None, session_number=number, name="Eve")

    story.step("Routing offers the session to Dave; he accepts and becomes controller (R4, R6)")
    offer = await story.offer_for("dave")
    print(
        f"      offer to Dave, with Carol's message; it expires at {offer['expires_at'][11:19]} UTC"
    )
    await story.do(
        "AcceptOffer", "dave", session_id=sid, offer_id=offer["offer_id"], agent_id="dave"
    )
    await story.until_controller("dave")

    story.step("Dave ends the session: everything stops, invitations are revoked (S10, I2)")
    await story.do("EndSession", "dave", session_id=sid)
    await story.refused("JoinAsCustomer", None, session_id=sid, name="Eve")
    link = token_of(draft["join_url"])
    await story.refused_in_time("revoked", "RedeemInvitation", None, token=link, name="Bob")
    await story.until_free("dave")
    print("      Dave's slot is free again (R7)")

    story.step("Erin asks for help through the Printers entry form (R8)")
    form = await story.do(
        "SubmitEntryForm",
        None,
        queue_id=queue_id,
        name="Erin",
        email="erin@example.com",
        problem="The printer on floor 2 prints blank pages",
    )
    await story.offer_for("dave")
    waiting = await story.do("GetWaitingPosition", None, request_id=form["request_id"])
    print(
        f"      session {form['session']['session_number_display']} waits: position"
        f" {waiting['position']} of {waiting['waiting']}, offered to Dave"
    )

    story.step("Analytics saw every event on support.events (E2)")


async def main() -> int:
    async with choose() as demo:
        print(f"support-center demo, {demo.description}")
        story = Story(demo)
        await walk(story)
        await settled(demo, at_least=story.seen)
        for key, count in sorted(demo.published.items()):
            print(f"      {key:<34} {count}")
        print(
            f"\ndone: {story.seen} events in the session's stream,"
            f" {sum(demo.published.values())} published"
        )
    return 0


async def settled(demo: Demo, at_least: int) -> None:
    """Until the analytics count has all the session's events and stopped growing."""
    last, steady = -1, 0
    for _ in range(200):
        total = sum(demo.published.values())
        steady = steady + 1 if total == last and total >= at_least else 0
        if steady == 3:
            return
        last = total
        await asyncio.sleep(0.1)
    raise SystemExit("demo: the published events did not all arrive within 20 s")


def run() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    sys.exit(uvloop.run(main()))


if __name__ == "__main__":
    run()
