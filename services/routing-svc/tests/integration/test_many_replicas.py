"""R4-R7 and R10 under load, on the real RabbitMQ and PostgreSQL: three replicas of
routing-svc, 50 agents of capacity 2, 1,000 hand-offs published as session-svc publishes them,
with priorities 1-9 rising every 5 s. Agents answer their offers over request/reply: most
accept, some decline, some let the offer expire; accepted sessions end a little later. One
replica (the one that started first and leads) is stopped and a new one started in the middle.

Checked from the event log afterwards: every session assigned exactly once (or still waiting
because every agent it was handed to by name declined it: R4 never offers it to them again),
no agent ever holding more sessions than its capacity, nor offered work while its sessions,
wrap-ups and open offers fill it, nor while it is away; no decliner offered the same session
again; every ended session's slot freed.

The second test runs the same with skills (R9), wrap-up (R11), overflow (R14) and not
responding (R13) on (issue 18.5), the hand-offs published 100 a second (a flood of them, on
this two-core machine with everything in one process, brought offers to the agents later and
later, past the 2 s offer time, until escalated sessions went round unanswered): no
overflowed session assigned in both queues (nor twice), no offer to an agent wrapping up to
capacity or away, nor to one without the skills the session needed at that moment of its wait,
every wrap-up ended."""

from __future__ import annotations

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import pytest

from eventlog import NewEvent
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitPublisher
from routing_svc.bootstrap import RoutingService, start
from support_contracts import Envelope, Event
from support_contracts.refusals import Refusal
from support_contracts.session import EndReason, HandedToAgents, HandedToQueue, SessionEnded
from support_rpc import RpcClient, RpcTimeout
from support_testkit.plugin import RabbitNames, SettingsFor, fresh_schema
from support_testkit.waiting import eventually

from .race_checks import (
    assert_offered_only_with_room,
    assert_offered_only_with_the_skills,
    settled,
    unsettled,
    views_against_log,
)
from .replicas import settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

AGENTS, CAPACITY, HAND_OFFS = 50, 2, 1000
SKILLS = {  # R9, in the second test: billing 1-5; every third agent speaks spanish
    f"agent-{n:02}": {"billing": n % 5 + 1} | ({"spanish": 3} if n % 3 == 0 else {})
    for n in range(AGENTS)
}
BILLING = {  # the most_idle queue's skills, widened after 1 s and after 2 s of waiting
    "required_skills": ["billing"],
    "minimum_proficiency": 3,
    "relaxation": [
        {"after_seconds": 1, "lower_minimum_to": 1},
        {"after_seconds": 2, "drop_skill": "spanish"},
    ],
}
ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]


class SessionSide:
    """Publishes session events on the exchange the way session-svc's outbox does."""

    def __init__(self, publisher: RabbitPublisher) -> None:
        self._publisher = publisher
        self._versions: Counter[UUID] = Counter()
        self._position = 0

    async def publish(self, session_id: UUID, event: Event) -> None:
        self._versions[session_id] += 1
        self._position += 1
        cause = uuid4()
        envelope = NewEvent.from_event(
            event, occurred_at=datetime.now(UTC), correlation_id=cause, causation_id=cause
        ).recorded(f"session-{session_id}", self._versions[session_id], self._position)
        await self._publisher.publish([envelope])


class Agents:
    """Fifty agents answering offers: 80% accept, 10% decline, 10% let it expire; and those
    ``absent`` let every offer expire until routing sets them away (the supervisor then takes
    them out of it: R13 comes into play for sure, where random expiries two in a row for one
    agent depend on the timing)."""

    def __init__(
        self, client: RpcClient, queue: str, sessions: SessionSide, absent: set[str]
    ) -> None:
        self._client, self._queue, self._sessions = client, queue, sessions
        self.absent = absent
        self._random = random.Random(5)
        self.tasks: set[asyncio.Task[None]] = set()
        self.accepted = 0
        self._seen: set[str] = set()

    async def _call(self, command_type: str, agent_id: str, **fields: Any) -> bool:
        command = {
            "command_id": str(uuid4()),
            "correlation_id": str(uuid4()),
            "actor_id": agent_id,
            "agent_id": agent_id,
            **fields,
        }
        for _ in range(3):  # a request lost with a stopping replica is sent again
            try:
                await self._client.call(self._queue, command_type, command, within_seconds=10)
            except Refusal as refused:
                assert refused.status == 409, refused  # taken, closed, expired, at capacity
                return False
            except RpcTimeout:
                continue
            return True
        return False

    def on_offer(self, made: dict[str, Any]) -> None:
        """Each offer answered once, as a console shows it once: delivery is at least once, and
        a relay taking over from a stopped replica publishes its last batch again."""
        if made["offer_id"] in self._seen:
            return
        self._seen.add(made["offer_id"])
        task = asyncio.create_task(self._answer(made))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, made: dict[str, Any]) -> None:
        choice = self._random.random()
        if made["agent_id"] in self.absent:
            return  # not at the desk: the offer expires
        if choice < 0.1:
            return  # the offer expires
        ids = {"session_id": made["session_id"], "offer_id": made["offer_id"]}
        await asyncio.sleep(self._random.uniform(0, 0.02))
        if choice < 0.2:
            await self._call("DeclineOffer", made["agent_id"], **ids)
            return
        if await self._call("AcceptOffer", made["agent_id"], **ids):
            self.accepted += 1
            await asyncio.sleep(self._random.uniform(0.05, 0.3))  # helping the customer
            ended = SessionEnded(reason=EndReason.ENDED_BY_CONTROLLER)
            await self._sessions.publish(UUID(made["session_id"]), ended)


class Supervisor:
    """R13 in the extended run: an agent the router set away, not responding, comes back
    (available) half a second later, as a person at the desk would."""

    def __init__(self, admin: Callable[..., Awaitable[dict[str, Any]]], absent: set[str]) -> None:
        self._admin, self._absent = admin, absent
        self.tasks: set[asyncio.Task[None]] = set()
        self.set_away = 0

    def on_status(self, changed: dict[str, Any]) -> None:
        if changed["status"] != "away" or changed.get("reason") is None:
            return
        self.set_away += 1
        self._absent.discard(changed["agent_id"])  # back at the desk when set available
        task = asyncio.create_task(self._back(changed["agent_id"]))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _back(self, agent_id: str) -> None:
        await asyncio.sleep(0.5)
        while True:  # a request lost with a stopping replica, or late under load, again
            try:
                await self._admin("ChangeAgentStatus", agent_id=agent_id, status="available")
            except RpcTimeout:
                continue
            return


async def test_r6_r7_three_replicas_fifty_agents_a_thousand_hand_offs(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, settings_for: SettingsFor
) -> None:
    await many_replicas(database_url, amqp_url, rabbit_names, settings_for, extended=False)


async def test_r9_r11_r13_r14_three_replicas_with_skills_wrap_up_overflow_and_not_responding(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, settings_for: SettingsFor
) -> None:
    """Issue 18.5: the same with a wrap-up of 1 s after each session (R11), the first queue
    overflowing into the second after 3 s (R14), and agents set away after two offers in a
    row let expire (R13), who come back half a second later."""
    await many_replicas(database_url, amqp_url, rabbit_names, settings_for, extended=True)


async def many_replicas(
    database_url: str,
    amqp_url: str,
    rabbit_names: RabbitNames,
    settings_for: SettingsFor,
    *,
    extended: bool,
) -> None:
    async with fresh_schema(database_url) as schema:
        config = settings(settings_for, schema, "nobody.commands")
        replicas: list[RoutingService] = [await start(config) for _ in range(3)]
        client = await RpcClient(amqp_url).connect()
        publisher = await RabbitPublisher(amqp_url, rabbit_names.exchange).connect()
        sessions = SessionSide(publisher)
        # R13 in the extended run: agent-35 (in both queues) is not at the desk at first
        absent = {"agent-35"} if extended else set()
        agents = Agents(client, config.command_queue, sessions, absent)
        connection = await aio_pika.connect_robust(amqp_url)
        log = await PostgresEventStore.connect(database_url, schema, max_size=2)
        try:
            channel = await connection.channel()
            exchange = await channel.get_exchange(rabbit_names.exchange)
            offers = await channel.declare_queue(exclusive=True)
            await offers.bind(exchange, "routing.OfferMade")
            await offers.bind(exchange, "routing.AgentStatusChanged")

            async def admin(command_type: str, **fields: Any) -> dict[str, Any]:
                ids = {"command_id": str(uuid4()), "correlation_id": str(uuid4())}
                command = {**ids, "actor_id": "admin", **fields}
                return await client.call(config.command_queue, command_type, command)

            supervisor = Supervisor(admin, absent)

            async def on_event(message: aio_pika.abc.AbstractIncomingMessage) -> None:
                envelope = Envelope.parse(message.body)
                if envelope.type == "OfferMade":
                    agents.on_offer(envelope.data)
                else:
                    supervisor.on_status(envelope.data)

            await offers.consume(on_event, no_ack=True)

            names = [f"agent-{n:02}" for n in range(AGENTS)]
            for agent_id in names:
                skills = SKILLS[agent_id] if extended else None
                await admin(
                    "ConfigureAgent", agent_id=agent_id, name=agent_id, max_sessions=2,
                    skills=skills,
                )  # fmt: skip
                await admin("ChangeAgentStatus", agent_id=agent_id, status="available")
            queues: list[UUID] = []
            for members, policy in [(names[30:], "least_busy"), (names[:40], "most_idle")]:
                definition = {
                    "name": policy,
                    "agent_ids": members,
                    "policy": policy,
                    "time_zone": "UTC",
                    "hours": ALWAYS,
                    "escalation_seconds": 20,
                    "offer_timeout_seconds": 2,
                    "priority_aging_seconds": 5,  # R10
                }
                if extended:
                    definition |= {"wrap_up_seconds": 1, "max_missed_offers": 2}  # R11, R13
                    if queues:  # R14: most_idle overflows into least_busy; R9 skills
                        definition |= {"overflow_queue_id": str(queues[0])}
                        definition |= {"overflow_after_seconds": 3} | BILLING
                queues.append(
                    UUID((await admin("ConfigureQueue", definition=definition))["queue_id"])
                )
            queues.reverse()  # most_idle first, as before

            pick = random.Random(7)
            handed: list[UUID] = []
            for n in range(HAND_OFFS):
                session_id = uuid4()
                handed.append(session_id)
                if n % 10 == 9:
                    event: Event = HandedToAgents(from_csr="csr", agent_ids=pick.sample(names, 3))
                else:
                    queue = queues[1 if n % 3 == 2 else 0]
                    added = ["spanish"] if extended and n % 7 == 0 else None  # R9
                    event = HandedToQueue(
                        from_csr="csr", queue_id=queue, priority=1 + n % 9, skills=added
                    )
                await sessions.publish(session_id, event)
                if extended and n % 10 == 9:
                    await asyncio.sleep(0.1)  # 100 a second: a busy desk, not a flood
                if n == HAND_OFFS // 2:  # a replica goes, another comes, mid-stream
                    await replicas.pop(0).stop()
                    replicas.append(await start(config))

            async def all_settled() -> bool:
                assigned, stuck = settled(await log.read_all(limit=1_000_000))
                return len(assigned) + len(stuck) == HAND_OFFS

            try:
                await eventually(all_settled, within=120, interval=1, what="every session settled")
            except AssertionError:
                events = await log.read_all(limit=1_000_000)
                told = unsettled(events, handled=handed)
                raise AssertionError(f"{told}\n{views_against_log(replicas, events)}") from None
            while agents.tasks or supervisor.tasks:  # the last sessions end
                await asyncio.gather(*list(agents.tasks), *list(supervisor.tasks))

            async def not_freed() -> list[str]:
                """The assigned sessions whose agent has no AgentSessionFinished yet, each with
                what the log says of it (the failure message, if it comes to that)."""
                events = await log.read_all(limit=1_000_000)
                finished = {
                    e.data["session_id"] for e in events if e.type == "AgentSessionFinished"
                }
                missing = settled(events)[0] - finished
                wrapping = Counter(e.data["session_id"] for e in events if "WrapUp" in e.type)
                missing |= {s for s, n in wrapping.items() if n % 2}  # a wrap-up not ended
                return [
                    f"{s}: {[e.type for e in events if e.data.get('session_id') == s]}"
                    for s in sorted(missing)
                ]

            async def all_freed() -> bool:
                return not await not_freed()

            try:
                await eventually(all_freed, within=60, interval=0.5, what="every slot freed")
            except AssertionError:
                raise AssertionError(
                    f"slots not freed (agents accepted {agents.accepted}):\n"
                    + "\n".join((await not_freed())[:20])
                ) from None
        finally:
            for replica in replicas:
                await replica.stop()
            await connection.close()
            await publisher.close()
            await client.close()

        events = await log.read_all(limit=1_000_000)
        await log.close()

    won = Counter(e.data["session_id"] for e in events if e.type == "OfferAccepted")
    assert set(won.values()) == {1}, "a session assigned twice"
    freed = Counter(e.data["session_id"] for e in events if e.type == "AgentSessionFinished")
    assert set(freed.values()) == {1}, "a slot freed twice"
    assigned, stuck = settled(events)
    assert len(assigned) + len(stuck) == HAND_OFFS and agents.accepted == len(assigned)
    assert len(stuck) <= 2  # named hand-offs every named agent declined (R4: not again)
    load: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    by_agent = sorted(
        (e for e in events if e.stream_id.startswith("agent-")),
        key=lambda e: (e.stream_id, e.stream_version),
    )
    for e in by_agent:
        if e.type == "AgentSessionStarted":
            load[e.data["agent_id"]] += 1
            peak[e.data["agent_id"]] = max(peak[e.data["agent_id"]], load[e.data["agent_id"]])
        elif e.type == "AgentSessionFinished":
            load[e.data["agent_id"]] -= 1
    assert max(peak.values()) <= CAPACITY, "an agent over capacity"
    assert not +load, "a slot never freed"
    assert_offered_only_with_room(events, CAPACITY)
    declined: defaultdict[str, set[str]] = defaultdict(set)
    for e in sorted(events, key=lambda e: e.global_position):
        if e.type == "OfferDeclined":
            declined[e.data["session_id"]].add(e.data["agent_id"])
        elif e.type == "TaskQueued":
            declined[e.data["session_id"]] = set()
        elif e.type == "OfferMade":
            assert e.data["agent_id"] not in declined[e.data["session_id"]], "offered again"
    kinds = Counter(e.type for e in events)
    assert kinds["OfferDeclined"] and kinds["OfferExpired"]
    if extended:  # each rule came into play, and every wrap-up ended (R11, R13, R14)
        assert kinds["TaskOverflowed"] and supervisor.set_away, kinds
        assert kinds["WrapUpStarted"] == kinds["WrapUpFinished"] > 0, kinds
        assert_offered_only_with_the_skills(events, SKILLS)
