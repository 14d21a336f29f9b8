"""``make demo``: the whole story of REQUIREMENTS.md through the gateway's HTTP API and the
relay's WebSocket, one step at a time, with the events each step caused and every refusal
along the way. ``wiring.py`` says where it runs (every service its own process on RabbitMQ and
PostgreSQL, or all of them embedded in this process)."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import structlog
import uvloop

from media_relay import frames
from support_contracts.refusals import Refusal
from support_demo.beyond import beyond_webacd
from support_demo.relay_client import RelayClient
from support_demo.stack import staff as staff_headers
from support_demo.wiring import Demo, choose

STEPS = 17


def short(value: object, most: int = 48) -> str:
    text = str(value)
    return text if len(text) <= most else f"{text[: most - 12]}...({len(text)} chars)"


def staff(user: str, *roles: str) -> dict[str, str]:
    return staff_headers(user, *roles, name=user.title())


ADMIN = staff("admin", "admin")
ALICE, CAROL, DAVE = staff("alice", "csr"), staff("carol", "csr", "agent"), staff("dave", "agent")


def holder(reply: dict[str, Any]) -> dict[str, str]:
    """The participant token a join gave, as the customer's page sends it."""
    return {"Authorization": f"Bearer {reply['participant_token']}"}


class Story:
    def __init__(self, demo: Demo) -> None:
        self.demo, self.step_no, self.seen = demo, 0, 0
        self.session_id = ""
        # what the story saw, for programs (its test): the last line, ``summary: {...}``
        self.refusals: list[str] = []  # "409 session_limit", in order
        self.observed: dict[str, Any] = {}

    def step(self, text: str) -> None:
        self.step_no += 1
        print(f"\n[{self.step_no}/{STEPS}] {text}", flush=True)

    def refusal(self, status: int, code: str, message: str) -> None:
        self.refusals.append(f"{status} {code}")
        print(f"      refused, as it should be: {status} {code}: {message}")

    def summary(self) -> dict[str, Any]:
        return {
            "steps": self.step_no,
            "refusals": self.refusals,
            "observed": self.observed,
            "session_events": self.seen,
            "published": dict(sorted(self.demo.published.items())),
        }

    async def call(
        self, method: str, path: str, who: dict[str, str] | None, body: Any = None
    ) -> dict[str, Any]:
        """One request to the gateway, as a console or a customer page makes it."""
        correlation = str(uuid4())
        if self.demo.mine is not None:
            self.demo.mine.add(correlation)
        headers = {**(who or {}), "X-Correlation-Id": correlation}
        response = await self.demo.api.request(method, path, json=body, headers=headers)
        answer: dict[str, Any] = response.json()
        if response.status_code >= 400:
            error = answer["error"]
            raise Refusal(response.status_code, error["code"], error["message"])
        await self.show_new_events()
        return answer

    async def refused(
        self, method: str, path: str, who: dict[str, str] | None, body: Any = None
    ) -> Refusal:
        try:
            await self.call(method, path, who, body)
        except Refusal as refusal:
            self.refusal(refusal.status, refusal.code, refusal.message)
            return refusal
        raise SystemExit(f"demo: {method} {path} should have been refused")

    async def refused_in_time(
        self, code: str, method: str, path: str, who: dict[str, str] | None, body: Any = None
    ) -> None:
        """Refused with ``code`` once the last step's events reached the other services."""
        for _ in range(100):
            try:
                await self.call(method, path, who, body)
            except Refusal as refusal:
                if refusal.code == code:
                    self.refusal(refusal.status, refusal.code, refusal.message)
                    return
            await asyncio.sleep(0.05)
        raise SystemExit(f"demo: {method} {path} was not refused with {code} within 5 s")

    async def offer_for(self, agent: dict[str, str]) -> dict[str, Any]:
        """The agent's open offer, once routing has made it (events travel between services)."""
        for _ in range(200):
            offers = (await self.call("GET", "/v1/agents/me/offers", agent))["offers"]
            if offers:
                return dict(offers[0])
            await asyncio.sleep(0.05)
        raise SystemExit("demo: no offer reached the agent within 10 s")

    async def show_new_events(self) -> None:
        if not self.session_id:
            return
        path = f"/v1/sessions/{self.session_id}/events"
        response = await self.demo.api.get(path, headers=ADMIN)
        for event in response.json()["events"][self.seen :]:
            if self.demo.mine is not None:  # caused through the relay: the demo's too
                self.demo.mine.add(event["correlation_id"])
            data = ", ".join(f"{k}={short(v)}" for k, v in event["data"].items() if v is not None)
            print(f"      v{event['stream_version']:<2} session.{event['type']:<22} {data}")
            self.seen += 1


def token_of(join_url: str) -> str:
    return parse_qs(urlsplit(join_url).query)["token"][0]


async def walk(story: Story) -> None:
    s = story
    s.step("An admin makes Carol and Dave WebACD agents and sets up the Printers queue (R1, R3)")
    await s.call("PUT", "/v1/admin/agents/carol", ADMIN, {"name": "Carol", "max_sessions": 2})
    await s.call("PUT", "/v1/admin/agents/dave", ADMIN, {"name": "Dave", "max_sessions": 2})
    await s.call("PUT", "/v1/agents/me/status", DAVE, {"status": "available"})
    always = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]
    queue = {"name": "Printers", "agent_ids": ["dave"], "policy": "most_idle",
             "time_zone": "Europe/Prague", "hours": always, "escalation_seconds": 120,
             "offer_timeout_seconds": 60}  # fmt: skip
    queue_id = (await s.call("POST", "/v1/admin/queues", ADMIN, queue))["queue_id"]
    print("      queue Printers: agent Dave (2 sessions at once, available), most idle first")

    s.step("Alice starts a session; it comes with an e-mail draft for her own mail (S1, S3)")
    started = await s.call("POST", "/v1/sessions", ALICE, {"email_invite": True})
    s.session_id = sid = started["session_id"]
    await s.show_new_events()
    number = started["session_number"]
    print(f"      session {started['session']['session_number_display']};"
          f" draft: {short(started['draft']['mailto'], 60)}")  # fmt: skip

    s.step("Alice tries a second session in single-session mode (S2)")
    await s.refused("POST", "/v1/sessions", ALICE, {"email_invite": False})

    s.step("Bob joins with the link in Alice's e-mail; Dana on the website by number (I1, S5)")
    bob = await s.call(
        "POST", "/v1/join", None, {"token": token_of(started["join_url"]), "name": "Bob"}
    )
    website = {"role": "customer", "channel": "website"}
    site = (await s.call("POST", f"/v1/sessions/{sid}/invitations", ALICE, website))["website"]
    print(f"      website steps for Dana: {'; '.join(site['steps'])}")
    dana = await s.call("POST", "/v1/join", None, {"session_number": number, "name": "Dana"})

    s.step("Carol is invited to assist by instant message; the link works once (I2, S7)")
    im = {"role": "csr", "channel": "instant_message"}
    invited = await s.call("POST", f"/v1/sessions/{sid}/invitations", ALICE, im)
    print(f"      message: {short(invited['instant_message']['text'], 70)}")
    link = {"token": token_of(invited["join_url"]), "name": "Carol"}
    await s.call("POST", "/v1/join", CAROL, link)
    await s.refused("POST", "/v1/join", DAVE, {**link, "name": "Dave"})

    s.step("Alice shares her desktop and starts a chat through the relay; all see it (M1, S6)")
    alice_relay, bob_relay = (
        await RelayClient.connect(started, "Alice"),
        await RelayClient.connect(bob, "Bob"),
    )
    sharing = (await alice_relay.ask(type="start", kind="desktop_sharing"))["activity_id"]
    chat = (await alice_relay.ask(type="start", kind="chat"))["activity_id"]
    await alice_relay.ws.send(frames.encode({"kind": "share", "activity_id": sharing}, b"<screen>"))
    await bob_relay.ws.send(json.dumps({"type": "chat", "text": "My printer prints blank pages"}))
    told = await alice_relay.told("chat")
    for _ in range(200):
        if bob_relay.frames:
            break
        await asyncio.sleep(0.025)
    await s.show_new_events()
    seen = len(bob_relay.frames)
    print(f"      Bob sees Alice's screen ({seen} frame); Alice reads: {told['text']}")
    s.observed |= {"frames_bob_saw": seen, "chat_alice_read": told["text"]}
    error = await bob_relay.refused(type="start", kind="video")  # only the controller (M2)
    s.refusal(error["status"], error["code"], error["message"])

    s.step("Alice selects Dana as the active customer: the sharing ends at once (S5, M3)")
    await s.call(
        "POST",
        f"/v1/sessions/{sid}/active-customer",
        ALICE,
        {"participant_id": dana["participant_id"]},
    )
    ended = await bob_relay.told("activity_ended", activity_id=sharing)
    print(f"      the relay tells Bob: desktop sharing ended ({ended['reason']}); the chat goes on")
    s.observed["sharing_ended"] = ended["reason"]

    s.step("Carol, an assistant, may not end the session (S8, S10)")
    await s.refused("POST", f"/v1/sessions/{sid}/end", CAROL)

    s.step("Alice transfers control to Carol: every activity ends (S8, M3)")
    await s.call("POST", f"/v1/sessions/{sid}/control", ALICE, {"to": "carol"})
    ended = await bob_relay.told("activity_ended", activity_id=chat)
    print(f"      the relay tells Bob: chat ended ({ended['reason']})")
    s.observed["chat_ended"] = ended["reason"]

    s.step("Carol hands off to the Printers queue: 346 characters refused, 345 accepted (S9)")
    await s.refused(
        "POST", f"/v1/sessions/{sid}/handoff", CAROL, {"queue_id": queue_id, "message": "m" * 346}
    )
    message = "Customer needs a printer specialist. " + "m" * 308
    await s.call(
        "POST", f"/v1/sessions/{sid}/handoff", CAROL, {"queue_id": queue_id, "message": message}
    )
    print("      the customers wait; Carol has left")

    s.step("Bob leaves while waiting (S11); new customers cannot join a waiting session")
    await s.call("POST", f"/v1/sessions/{sid}/leave", holder(bob))
    await s.refused("POST", "/v1/join", None, {"session_number": number, "name": "Eve"})

    s.step("Routing offers the session to Dave; he accepts and becomes controller (R4, R6)")
    offer = await s.offer_for(DAVE)
    print(
        f"      offer to Dave, with Carol's message; it expires at {offer['expires_at'][11:19]} UTC"
    )
    taken = await s.call("POST", f"/v1/offers/{offer['offer_id']}/accept", DAVE)
    controller = (await s.call("GET", f"/v1/sessions/{sid}", DAVE))["controller"]
    print(f"      assigned: {taken['assigned']}; the controller is now {controller}")
    s.observed |= {"assigned": taken["assigned"], "controller_after_handoff": controller}

    s.step("Dave ends the session: everything stops, invitations are revoked (S10, I2)")
    dana_relay = await RelayClient.connect(dana, "Dana")
    await s.call("POST", f"/v1/sessions/{sid}/end", DAVE)
    told = await dana_relay.told("session_ended")
    print(f"      the relay tells Dana: the session ended ({told['reason']})")
    s.observed["dana_told_the_end"] = told["reason"]
    await s.refused("POST", "/v1/join", None, {"session_number": number, "name": "Eve"})
    again = {"token": token_of(started["join_url"]), "name": "Bob"}
    await s.refused_in_time("revoked", "POST", "/v1/join", None, again)
    for relay in (alice_relay, bob_relay, dana_relay):
        await relay.close()

    s.step("Erin asks for help through the Printers entry form (R8, R5)")
    form = {
        "name": "Erin",
        "email": "erin@example.com",
        "problem": "The printer on floor 2 prints blank pages",
    }
    erin = await s.call("POST", f"/v1/queues/{queue_id}/requests", None, form)
    await s.offer_for(DAVE)
    where = f"/v1/queues/{queue_id}/requests/{erin['request_id']}"
    waiting = await s.call("GET", where, holder(erin))
    print(
        f"      Erin waits: position {waiting['position']} of {waiting['waiting']}, offered to Dave"
    )
    s.observed["erin_waits"] = [waiting["position"], waiting["waiting"]]

    await beyond_webacd(s)

    s.step("Analytics saw every event on support.events (E2)")


async def main() -> int:
    async with await choose() as demo:
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
        print(f"summary: {json.dumps(story.summary())}")  # the same, for programs
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
