"""The load of the fault suite: session stories through the gateway and the relay, as real
clients run them, and a tally of every answer they saw.

A client sends every POST with an ``Idempotency-Key`` and retries it with the same key on a
5xx, a lost connection and ``409 in_progress``, as a real one does. Csrs start a session,
invite a customer by e-mail, let the customer join by the session number (and open the
relay), then hand the session to the queue; agents poll their offers, accept, and end each
session they took a moment later."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import httpx
from websockets.exceptions import InvalidStatus

from support_demo.relay_client import RelayClient
from support_demo.stack import staff

ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]
REQUEST_TIMEOUT = 5.0  # the gateway's (its settings' default)
LATE = REQUEST_TIMEOUT + 3.0  # an answer later than this is past its timeout (2 busy cores)
PATIENCE = 120.0  # how long a client keeps retrying one request
ADMIN = staff("admin", "admin")


@dataclass
class Seen:
    """Every attempt's outcome, and what a client must never see."""

    answers: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # 4xx, by status and code
    bad: list[str] = field(default_factory=list)

    def answered(self, what: str, response: httpx.Response, seconds: float) -> None:
        status = response.status_code
        self.answers[f"{status // 100}xx" if status != 503 else "503"] += 1
        if seconds > LATE:
            self.bad.append(f"{what}: {status} after {seconds:.1f} s")
        if status >= 400:
            try:
                error = response.json()["error"]
                assert error["code"] and error["message"]
                if status < 500:
                    self.refusals[f"{status} {error['code']}"] += 1
            except Exception:
                self.bad.append(f"{what}: {status} without the error body: {response.text[:80]}")
        if status >= 500 and (status != 503 or "retry-after" not in response.headers):
            self.bad.append(f"{what}: {status} {response.text[:120]}")

    def unanswered(self, what: str, error: Exception, seconds: float) -> None:
        self.answers["no answer"] += 1
        if isinstance(error, httpx.TimeoutException):
            self.bad.append(f"{what}: no answer within {seconds:.1f} s")


def _again(response: httpx.Response) -> bool:
    if response.status_code >= 500:
        return True
    return response.status_code == 409 and response.json()["error"]["code"] == "in_progress"


class Client:
    def __init__(self, base_url: str, seen: Seen) -> None:
        self.seen = seen
        self._http = httpx.AsyncClient(base_url=base_url, timeout=LATE + 2)

    async def send(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> httpx.Response | None:
        """The final answer (retried as a client does), or None if the client gave up."""
        if method != "GET":
            headers = {**headers, "Idempotency-Key": str(uuid4())}
        give_up = time.monotonic() + PATIENCE
        while True:
            began = time.monotonic()
            try:
                response = await self._http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as error:
                self.seen.unanswered(f"{method} {path}", error, time.monotonic() - began)
            else:
                self.seen.answered(f"{method} {path}", response, time.monotonic() - began)
                if not _again(response):
                    return response
            if time.monotonic() > give_up:
                return None
            await asyncio.sleep(0.5)

    async def close(self) -> None:
        await self._http.aclose()


@dataclass
class Answered:
    """What the services answered that they did: each must be in their logs."""

    started: dict[str, str] = field(default_factory=dict)  # session id: its csr
    invited: set[str] = field(default_factory=set)  # e-mail invitation ids
    joined: set[str] = field(default_factory=set)  # customer participant ids
    handed: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)  # sessions an agent was assigned
    ended: set[str] = field(default_factory=set)


class Load:
    def __init__(self, gateway_url: str, csrs: int, agents: int, *, pace: float = 0.5) -> None:
        self.seen = Seen()
        self.client = Client(gateway_url, self.seen)
        self.done = Answered()
        self.failed: list[str] = []  # a story step that got an answer it should not have
        self.relay: Counter[str] = Counter()
        self.csrs = [f"csr-{n}" for n in range(csrs)]
        self.agents = [f"agent-{n}" for n in range(agents)]
        self._pace = pace
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._csrs: list[asyncio.Task[None]] = []
        self._endings: set[asyncio.Task[None]] = set()
        self.queue_id = ""

    async def set_up(self, offer_timeout_seconds: int = 20) -> None:
        for csr in self.csrs:  # S9: WebACD agents for session-svc, so that they can hand off
            body = {"session_mode": "single", "is_webacd_agent": True, "voice_supported": True}
            await self._must("PUT", f"/v1/admin/csrs/{csr}", ADMIN, body)
        for agent in self.agents:
            body = {"name": agent.title(), "max_sessions": 2}
            await self._must("PUT", f"/v1/admin/agents/{agent}", ADMIN, body)
            available = {"status": "available"}
            await self._must("PUT", "/v1/agents/me/status", staff(agent, "agent"), available)
        queue = {"name": "Faults", "agent_ids": self.agents, "policy": "most_idle",
                 "time_zone": "Europe/Prague", "hours": ALWAYS, "escalation_seconds": 600,
                 "offer_timeout_seconds": offer_timeout_seconds}  # fmt: skip
        self.queue_id = (await self._must("POST", "/v1/admin/queues", ADMIN, queue))["queue_id"]

    async def _must(self, method: str, path: str, who: dict[str, str], body: Any) -> Any:
        response = await self.client.send(method, path, who, body)
        assert response is not None and response.status_code < 300, (path, response)
        return response.json()

    def start(self) -> None:
        self._csrs = [asyncio.create_task(self._csr(c)) for c in self.csrs]
        self._tasks = self._csrs + [asyncio.create_task(self._agent(a)) for a in self.agents]

    async def stop(self, within: float = 90) -> None:
        """The csrs stop starting sessions; the agents go on until every session handed to
        the queue has ended (or ``within`` has passed)."""
        self._stopping.set()
        await asyncio.wait(self._tasks, timeout=within)
        for task in self._tasks:
            task.cancel()
        if self._endings:
            await asyncio.wait(self._endings, timeout=30)
        await self.client.close()

    def _step(self, what: str, response: httpx.Response | None, status: int) -> bool:
        if response is not None and response.status_code == status:
            return True
        got = "no answer" if response is None else f"{response.status_code} {response.text[:120]}"
        self.failed.append(f"{what}: {got}")
        return False

    async def _csr(self, user: str) -> None:
        while not self._stopping.is_set():
            await self._story(user, staff(user, "csr"))
            await asyncio.sleep(self._pace)

    async def _story(self, user: str, csr: dict[str, str]) -> None:
        send = self.client.send
        started = await send("POST", "/v1/sessions", csr, {"email_invite": False})
        if not self._step("start", started, 201):
            return
        assert started is not None
        session, number = started.json()["session_id"], started.json()["session_number"]
        self.done.started[session] = user
        letter = {"role": "customer", "channel": "email", "to": f"{uuid4().hex[:8]}@example.com"}
        invited = await send("POST", f"/v1/sessions/{session}/invitations", csr, letter)
        if self._step("invite", invited, 201):
            assert invited is not None
            self.done.invited.add(invited.json()["invitation_id"])
        joined = await send("POST", "/v1/join", {}, {"session_number": number, "name": "Cy"})
        if self._step("join", joined, 200):
            assert joined is not None
            self.done.joined.add(joined.json()["participant_id"])
            await self._open_relay(joined.json())
        handoff = {"queue_id": self.queue_id, "message": "Please take over."}
        handed = await send("POST", f"/v1/sessions/{session}/handoff", csr, handoff)
        if self._step("handoff", handed, 200):
            self.done.handed.add(session)
        else:  # the csr ends what it could not hand on, as one would
            await self._end(session, csr)

    async def _open_relay(self, joined: dict[str, Any]) -> None:
        """The customer's relay connection; the relay may not have seen the join yet."""
        for _ in range(20):
            try:
                relay = await RelayClient.connect(joined, "customer")
            except InvalidStatus:
                await asyncio.sleep(0.25)
                continue
            except OSError:  # the relay is being restarted
                self.relay["unreachable"] += 1
                await asyncio.sleep(0.5)
                continue
            self.relay["connected"] += 1
            await relay.close()
            return
        self.relay["refused"] += 1
        self.failed.append(f"relay: the customer {joined['participant_id']} never let in")

    async def _agent(self, user: str) -> None:
        agent, taken = staff(user, "agent"), set[str]()
        while not self._all_ended():
            offers = await self.client.send("GET", "/v1/agents/me/offers", agent)
            if offers is not None and offers.status_code == 200:
                for offer in offers.json()["offers"]:
                    if offer["offer_id"] not in taken:
                        taken.add(offer["offer_id"])
                        await self._accept(offer, agent)
            await asyncio.sleep(0.3)

    def _all_ended(self) -> bool:
        """Stopping, every csr's last story told (a hand-off made after the agents stopped
        would be left waiting), and every session handed to the queue ended."""
        return (
            self._stopping.is_set()
            and all(task.done() for task in self._csrs)
            and self.done.handed <= self.done.ended
        )

    async def _accept(self, offer: dict[str, Any], agent: dict[str, str]) -> None:
        accepted = await self.client.send("POST", f"/v1/offers/{offer['offer_id']}/accept", agent)
        if accepted is None or accepted.status_code in (404, 409):  # gone meanwhile (expired,
            return  # withdrawn, taken): the list was read a moment before
        if self._step("accept", accepted, 200) and accepted.json()["assigned"]:
            self.done.accepted.add(offer["session_id"])
            ending = asyncio.create_task(self._end(offer["session_id"], agent, after=1.0))
            self._endings.add(ending)
            ending.add_done_callback(self._endings.discard)

    async def _end(self, session: str, who: dict[str, str], *, after: float = 0.0) -> None:
        await asyncio.sleep(after)
        ended = await self.client.send("POST", f"/v1/sessions/{session}/end", who)
        if self._step("end", ended, 200):
            self.done.ended.add(session)
