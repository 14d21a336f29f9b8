"""Issue 13: the whole system under load and faults. Every service its own process (two
replicas of session-svc and routing-svc) on a RabbitMQ node and a PostgreSQL cluster of the
suite's own and a real SMTP server; csrs and agents through the gateway and the relay
(``load.py``); an analyst's subscriber on the events exchange. The faults, in turn: poison
messages on every command and consumer queue, the same command and event delivered twice,
``kill -9`` of each service and of the gateway (then started again), the SMTP server down for
30 s, RabbitMQ stopped and started, PostgreSQL stopped and started and its postmaster killed.

After each fault it checks, from the logs, the services' log lines and the subscriber
(``verdict.py``): no answered command lost, none applied twice, every committed event
delivered, never two leaders of one log at once, no agent over capacity, no slot freed twice,
every service ready again (and how long that took), and that clients saw only 2xx, 4xx with
the error body, or 503 with ``Retry-After``, never an answer past its timeout. At the end: no
session stuck, every e-mail sent exactly once. It prints the table (README.md shows one)."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import aio_pika
import pytest

from support_contracts.topology import Topology
from support_demo.stack import Service, Stack, start_stack
from support_rpc import RpcClient
from support_testkit import eventually
from support_testkit.mail import SmtpServer
from support_testkit.plugin import RabbitNames, fresh_schema, waiting_in
from support_testkit.private import PrivatePostgres, PrivateRabbit
from support_testkit.processes import http_get

from . import verdict
from .load import Answered, Load

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

CAPACITY = 2
SETTLE_SECONDS = 5.0  # load after each recovery, before the checks


@dataclass
class Row:
    phase: str
    ready_seconds: float
    answers: Counter[str]
    bad: int
    lost: int
    twice: int
    undelivered: int
    leaders: int
    over: int
    freed_twice: int

    COLUMNS = ("phase", "ready after (s)", "2xx", "4xx", "503", "no answer", "bad answers",
               "lost", "applied twice", "undelivered", "two leaders", "over capacity",
               "freed twice")  # fmt: skip

    def cells(self) -> list[str]:
        a = self.answers
        return [self.phase, f"{self.ready_seconds:.1f}", str(a["2xx"]), str(a["4xx"]),
                str(a["503"]), str(a["no answer"]), str(self.bad), str(self.lost),
                str(self.twice), str(self.undelivered), str(self.leaders), str(self.over),
                str(self.freed_twice)]  # fmt: skip

    @property
    def held(self) -> bool:
        return not any(
            (self.bad, self.lost, self.twice, self.undelivered, self.leaders, self.over,
             self.freed_twice)
        )  # fmt: skip


def table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(Row.COLUMNS) + " |", "|" + "---|" * len(Row.COLUMNS)]
    return "\n".join(lines + ["| " + " | ".join(r.cells()) + " |" for r in rows])


@dataclass
class System:
    stack: Stack
    load: Load
    subscriber: verdict.Subscriber
    smtp: SmtpServer
    rabbit: PrivateRabbit
    postgres: PrivatePostgres
    names: RabbitNames
    rows: list[Row] = field(default_factory=list)
    killed_at: dict[int, datetime] = field(default_factory=dict)
    _answers: Counter[str] = field(default_factory=Counter)
    _bad: int = 0

    @property
    def topology(self) -> Topology:
        return self.names.topology()

    async def kill_and_restart(self, name: str) -> None:
        service = self.stack.running(name)[0]
        self.killed_at[service.process.pid] = datetime.now(UTC)
        await self.stack.kill(service)
        await asyncio.sleep(3)
        await self.stack.restart(service)

    async def _read(self) -> tuple[Answered, verdict.Logs]:
        """What had been answered, then the logs: everything answered is in them."""
        done = copy.deepcopy(self.load.done)
        return done, await verdict.Logs.read(self.postgres.url, self.stack.schemas)

    async def ready_again(self, within: float = 120) -> float:
        began = time.monotonic()
        for service in list(self.stack.services):
            await eventually(
                lambda s=service: _ready(s), within=within, interval=0.2,
                what=f"{service.name} ready again",
            )  # fmt: skip
        return time.monotonic() - began

    async def check(self, phase: str, ready_seconds: float) -> Row:
        await asyncio.sleep(SETTLE_SECONDS)
        done, logs = await self._read()

        async def delivered() -> bool:
            nonlocal done, logs
            done, logs = await self._read()
            return verdict.undelivered(logs, self.subscriber) == 0

        try:  # what was committed a moment ago may be on its way
            await eventually(delivered, within=30, interval=1, what="every event delivered")
        except AssertionError:
            pass  # the row shows how many did not arrive
        answers = self.load.seen.answers - self._answers
        self._answers = Counter(self.load.seen.answers)
        bad, self._bad = len(self.load.seen.bad) - self._bad, len(self.load.seen.bad)
        services = self.stack.services + self.stack.gone
        lost = verdict.lost(logs, done)
        if lost:
            print(f"  !! lost: {lost}", flush=True)
        row = Row(
            phase, ready_seconds, answers, bad,
            sum(map(len, lost.values())), verdict.applied_twice(logs),
            verdict.undelivered(logs, self.subscriber),
            verdict.leaders_at_once(services, self.killed_at),
            *verdict.over_capacity(logs, CAPACITY),
        )  # fmt: skip
        self.rows.append(row)
        print(f"  .. {' | '.join(row.cells())}", flush=True)
        return row


async def _ready(service: Service) -> bool:
    try:
        status, _, _ = await http_get(service.ops_port, "/readyz")
    except OSError:
        return False
    return status == 200


# --- the faults ---------------------------------------------------------------------------


async def steady(system: System) -> None:
    await asyncio.sleep(8)


async def _publish(url: str, queue: str, body: bytes, reply_to: str | None = None) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        message = aio_pika.Message(body, reply_to=reply_to, correlation_id=str(uuid4()))
        await channel.default_exchange.publish(message, routing_key=queue)


def _envelope(kind: str, data: dict[str, Any]) -> bytes:
    return json.dumps({
        "event_id": str(uuid4()), "type": kind, "schema_version": 1,
        "stream_id": f"session-{uuid4()}", "stream_version": 0, "global_position": 0,
        "occurred_at": "2026-12-02T12:00:00.000000Z", "correlation_id": str(uuid4()),
        "causation_id": str(uuid4()), "data": data,
    }).encode()  # fmt: skip


POISON_COMMANDS = (
    b"{not json",
    json.dumps({"type": "Nonsense", "command": {}}).encode(),
    json.dumps({"type": "StartSession", "command": {"csr_id": 7}}).encode(),
)


async def poison(system: System) -> None:
    """On every command queue: not JSON, an unknown command, a command that is not valid; each
    is answered with a refusal. On every consumer queue: not JSON, an unknown event type, a
    known type whose data is not valid (its handler raises); each ends in ``<queue>.dead``."""
    url = system.rabbit.url
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        replies = await channel.declare_queue(exclusive=True)
        commands = system.topology.command_queues
        for name in commands:
            for body in POISON_COMMANDS:
                await _publish(url, name, body, reply_to=replies.name)
        answers = []
        async with replies.iterator() as arriving:
            async for message in arriving:
                answers.append(json.loads(message.body))
                await message.ack()
                if len(answers) == len(POISON_COMMANDS) * len(commands):
                    break
    refused = [a["error"]["status"] for a in answers if not a["ok"]]
    assert len(refused) == len(answers) and all(400 <= s < 500 for s in refused), answers
    subscriptions = system.topology.subscriptions
    for subscription in subscriptions:
        for body in (b"{not json", _envelope("NoSuchEvent", {}),
                     _envelope("HandedToQueue", {"queue_id": "not a queue"})):  # fmt: skip
            await _publish(url, subscription.queue, body)
    for subscription in subscriptions:
        await eventually(
            lambda s=subscription: _at_least(url, s.dead_letter_queue, 3), within=60, interval=0.5,
            what=f"the poison of {subscription.queue} dead-lettered",
        )  # fmt: skip


async def _at_least(url: str, queue: str, count: int) -> bool:
    return await waiting_in(url, queue) >= count


async def delivered_twice(system: System) -> None:
    """The same command twice on session-svc's queue (as when a replica died between its
    commit and its ack), and the same event twice on routing-svc's: each applied once."""
    client = await RpcClient(system.rabbit.url).connect()
    try:
        command = {"command_id": str(uuid4()), "correlation_id": str(uuid4()),
                   "actor_id": "twice", "csr_id": "twice", "csr_name": "Twice"}  # fmt: skip
        queue = system.topology.command_queue("session-svc")
        first = await client.call(queue, "StartSession", command)
        again = await client.call(queue, "StartSession", command)
        assert first["session"]["session_id"] == again["session"]["session_id"]
        end = {"command_id": str(uuid4()), "correlation_id": str(uuid4()), "actor_id": "twice",
               "session_id": first["session"]["session_id"]}  # fmt: skip
        await client.call(queue, "EndSession", end)
    finally:
        await client.close()
    logs = await verdict.Logs.read(system.postgres.url, system.stack.schemas)
    handed = next(e for e in reversed(logs.session) if e.type == "HandedToQueue")
    routing = system.topology.subscription("routing-svc").queue
    await _publish(system.rabbit.url, routing, handed.model_dump_json().encode())


async def smtp_down(system: System) -> None:
    system.smtp.down()
    await asyncio.sleep(30)
    system.smtp.up()


async def broker_restart(system: System) -> None:
    await asyncio.to_thread(system.rabbit.stop)
    await asyncio.sleep(15)
    await asyncio.to_thread(system.rabbit.start)


async def database_restart(system: System) -> None:
    await asyncio.to_thread(system.postgres.stop)
    await asyncio.sleep(10)
    await asyncio.to_thread(system.postgres.start)


async def postmaster_killed(system: System) -> None:
    await asyncio.to_thread(system.postgres.kill_postmaster)
    await asyncio.sleep(3)
    await asyncio.to_thread(system.postgres.start)


def killed(name: str) -> Callable[[System], Awaitable[None]]:
    async def fault(system: System) -> None:
        await system.kill_and_restart(name)

    return fault


PHASES: list[tuple[str, Callable[[System], Awaitable[None]]]] = [
    ("steady load", steady),
    ("poison messages", poison),
    ("delivered twice", delivered_twice),
    ("kill -9 session-svc", killed("session_svc")),
    ("kill -9 routing-svc", killed("routing_svc")),
    ("kill -9 invite-svc", killed("invite_svc")),
    ("kill -9 media-relay", killed("media_relay")),
    ("kill -9 gateway", killed("gateway")),
    ("SMTP down 30 s", smtp_down),
    ("RabbitMQ down 15 s", broker_restart),
    ("PostgreSQL down 10 s", database_restart),
    ("postmaster killed", postmaster_killed),
]


async def test_the_system_under_load_and_faults(
    rabbit: PrivateRabbit, postgres: PrivatePostgres, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    names, smtp = RabbitNames.fresh(), SmtpServer().up()
    async with AsyncExitStack() as exits:
        exits.callback(smtp.down)
        schemas = [await exits.enter_async_context(fresh_schema(postgres.url)) for _ in range(5)]
        analyst = verdict.Subscriber(rabbit.url, names.exchange, names.queue("analyst"))
        exits.push_async_callback((await analyst.start()).stop)
        stack = await start_stack(
            exits, rabbit.url, postgres.url, names, schemas, tmp_path, smtp.url, replicas=2
        )
        load = Load(stack.gateway_url, csrs=4, agents=8)
        await load.set_up()
        system = System(stack, load, analyst, smtp, rabbit, postgres, names)
        load.start()
        with capsys.disabled():
            print("\n  .. " + " | ".join(Row.COLUMNS), flush=True)
            chosen = os.environ.get("FAULTS")  # e.g. FAULTS="kill -9,RabbitMQ": those only
            for phase, fault in PHASES:
                if chosen and not any(c.strip() in phase for c in chosen.split(",")):
                    continue
                await fault(system)
                await system.check(phase, await system.ready_again())
            await load.stop()
            final = await system.check("drained", await system.ready_again())
            logs = await verdict.Logs.read(postgres.url, stack.schemas)
            mail = verdict.mail(logs, load.done, smtp.mailbox.messages)
            stuck = verdict.stuck(logs, load.done)
            print(f"\n{table(system.rows)}\n", flush=True)
            print(f"  sessions started {len(load.done.started)}, stuck {len(stuck)}; {mail}; "
                  f"relay {dict(load.relay)}; story steps failed {len(load.failed)}; "
                  f"refusals {dict(load.seen.refusals)}", flush=True)  # fmt: skip
            for service in stack.services + stack.gone:  # what went wrong, as ops would see it
                errors = [e for e in service.logged if e.get("level") in ("error", "critical")]
                for entry in errors[:3]:
                    print(f"  !! {service.name}: {json.dumps(entry)[:1500]}", flush=True)
            for session in sorted(stuck)[:3]:
                lines = "\n      ".join(verdict.story_of(logs, load.done, session))
                print(f"  !! stuck {session}:\n      {lines}", flush=True)
    assert not load.seen.bad, load.seen.bad[:20]
    assert not load.failed, load.failed[:20]
    assert all(row.held for row in system.rows), table(system.rows)
    assert not stuck, sorted(stuck)
    assert mail["sent twice"] == 0 and mail["never sent"] == 0, mail
    assert final.held
