"""``make demo``: the story of REQUIREMENTS.md as far as it is built, one step at a time, with
the events each step caused and every refusal along the way.

Built: session-svc (S1-S12) and invite-svc (I1-I4) on the event log, outbox and inbox. Not
yet built: WebACD routing (#5), the media relay (#6) and the gateway (#7); where the story
needs them, the demo says so and sends session-svc the command those services would send.
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

STEPS = 13


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
    story.step("An admin makes Carol a WebACD agent")
    await story.do(
        "ChangeCsrSettings",
        "admin",
        csr_id="carol",
        settings={"session_mode": "single", "is_webacd_agent": True, "voice_supported": True},
    )
    print("      carol: WebACD agent, voice supported")

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

    story.step("Carol hands off to a WebACD queue: 346 characters refused, 345 accepted (S9)")
    queue_id = str(uuid4())
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

    story.step("Agent Dave accepts the offer (routing-svc, #5, would send this) (R6)")
    await story.do(
        "AssignAgent",
        "routing-svc",
        session_id=sid,
        agent_id="dave",
        agent_name="Dave",
        offer_id=str(uuid4()),
    )

    story.step("Dave ends the session: everything stops, invitations are revoked (S10, I2)")
    await story.do("EndSession", "dave", session_id=sid)
    await story.refused("JoinAsCustomer", None, session_id=sid, name="Eve")
    link = token_of(draft["join_url"])
    await story.refused_in_time("revoked", "RedeemInvitation", None, token=link, name="Bob")

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
