"""routing-svc benchmark.

1. The cost of one routing decision as the number of agents grows (1,000 / 10,000 / 100,000
   agents in one queue, capacity 2, all available): our ``AgentPool`` (heaps, ``most_idle``)
   side by side with a plain scan over the agents (what a router that looks at every agent
   does). A decision is: pick the agent, it takes the session, a session of another ends.
   Then the same with skills (R9): 20 skills, 3 needed, with relaxation steps (``skills.py``).
2. The service: 10,000 agents in 100 queues, 3 replicas of routing-svc (each its own process)
   on PostgreSQL and RabbitMQ. Hand-offs are published on the exchange as session-svc would, at
   a fixed rate, each to a random queue; the bench's agents accept every offer at once over
   request/reply and end the session a second later. Measured: the time from publishing the
   hand-off to receiving its first ``OfferMade``, offers and assignments per second.

Usage: run.py [--seconds 5] [--rates 50,100,200] [--replicas 3] [--decisions-only]"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import uvloop

from eventlog import NO_STREAM, NewEvent
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitPublisher
from routing_svc.domain.pool import Agent, AgentPool, Policy
from routing_svc.settings import Settings
from routing_svc.writing import agent_stream, queue_stream
from support_contracts import Envelope, Event
from support_contracts.refusals import Refusal
from support_contracts.routing import (
    AgentConfigured,
    AgentStatusChanged,
    OpeningHours,
    QueueConfigured,
    QueueDefinition,
)
from support_contracts.session import EndReason, HandedToQueue, SessionEnded
from support_contracts.vocabulary import AgentStatus, RoutingPolicy
from support_rpc import RpcClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import common
from scan import Scan
from skills import skills_cost

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# --- 1. one decision -------------------------------------------------------------------------


def decisions_per_second(router: Any, decisions: int) -> float:
    busy: list[str] = []
    started = time.perf_counter()
    for n in range(decisions):
        chosen = router.pick() if isinstance(router, Scan) else router.pick(Policy.MOST_IDLE)[0]
        router.take(chosen)
        busy.append(chosen)
        if len(busy) > 100:  # a session of another agent ends: it is free again
            router.free(busy.pop(0), T0 + timedelta(seconds=n))
    return decisions / (time.perf_counter() - started)


def decision_cost() -> list[tuple[int, float, float]]:
    rows = []
    for count in (1_000, 10_000, 100_000):
        common.progress(f"one decision among {count:,} agents")
        agents = [
            Agent(f"a{n}", 2, n, AgentStatus.AVAILABLE, 0, T0 - timedelta(seconds=n % 977))
            for n in range(count)
        ]
        pool = AgentPool()
        for agent in agents:
            pool.put(agent)
        ours = decisions_per_second(pool, 20_000)
        scan = decisions_per_second(Scan(agents), max(200, 2_000_000 // count))
        rows.append((count, 1e6 / ours, 1e6 / scan))
    return rows


# --- 2. the service --------------------------------------------------------------------------

ALWAYS = [
    OpeningHours(weekday=d, opens=time_of_day(0), closes=time_of_day(23, 59)) for d in range(7)
]


async def configure(store: PostgresEventStore, agents: int, queues: int) -> list[UUID]:
    """Agents and queues written straight into the log (set-up, not measured)."""
    cause = uuid4()

    def new(event: Event) -> NewEvent:
        return NewEvent.from_event(event, occurred_at=T0, correlation_id=cause, causation_id=cause)

    names = [f"agent-{n:06}" for n in range(agents)]
    for start in range(0, agents, 500):
        async with store.transaction() as tx:
            for name in names[start : start + 500]:
                events = [
                    AgentConfigured(agent_id=name, name=name, max_sessions=2),
                    AgentStatusChanged(agent_id=name, status=AgentStatus.AVAILABLE),
                ]
                await tx.append(agent_stream(name), [new(e) for e in events], NO_STREAM)
    queue_ids = [uuid4() for _ in range(queues)]
    per_queue = agents // queues
    async with store.transaction() as tx:
        for n, queue_id in enumerate(queue_ids):
            definition = QueueDefinition(
                name=f"queue {n}",
                agent_ids=names[n * per_queue : (n + 1) * per_queue],
                policy=RoutingPolicy.MOST_IDLE,
                time_zone="UTC",
                hours=ALWAYS,
                escalation_seconds=3600,
                offer_timeout_seconds=60,
            )
            event = QueueConfigured(queue_id=queue_id, definition=definition)
            await tx.append(queue_stream(queue_id), [new(event)], NO_STREAM)
    return queue_ids


async def _before_last(store: PostgresEventStore) -> int:
    position = -1
    while events := await store.read_all(position, 5000):
        if len(events) < 5000:
            return events[-2].global_position if len(events) > 1 else position
        position = events[-1].global_position
    return position


class Load:
    """The bench's side: publishes hand-offs as session-svc would, and plays every agent:
    an offer is accepted at once; in the steady phases the session ends a second later."""

    def __init__(self, client: RpcClient, commands: str, publisher: RabbitPublisher) -> None:
        self.client, self.commands, self.publisher = client, commands, publisher
        self.ending = True
        self.reset()
        self.tasks: set[asyncio.Task[None]] = set()
        self._position = 0

    def reset(self) -> None:
        self.handed: dict[str, float] = {}
        self.first_offer: dict[str, float] = {}
        self.transit: list[float] = []
        self.accepted: list[float] = []
        self.offers = 0

    async def publish(self, session_id: UUID, version: int, event: Event) -> None:
        self._position += 1
        cause = uuid4()
        envelope = NewEvent.from_event(
            event, occurred_at=datetime.now(UTC), correlation_id=cause, causation_id=cause
        ).recorded(f"session-{session_id}", version, self._position)
        await self.publisher.publish([envelope])

    async def hand_off(self, queue_id: UUID) -> None:
        session_id = uuid4()
        self.handed[str(session_id)] = time.perf_counter()
        await self.publish(session_id, 1, HandedToQueue(from_csr="csr", queue_id=queue_id))

    async def on_offer(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        now = time.perf_counter()
        envelope = Envelope.parse(message.body)
        made = envelope.data
        self.transit.append((datetime.now(UTC) - envelope.occurred_at).total_seconds())
        self.offers += 1
        self.first_offer.setdefault(made["session_id"], now)
        task = asyncio.create_task(self._accept(made))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _accept(self, made: dict[str, Any]) -> None:
        command = {
            "command_id": str(uuid4()),
            "correlation_id": str(uuid4()),
            "actor_id": made["agent_id"],
            "agent_id": made["agent_id"],
            "session_id": made["session_id"],
            "offer_id": made["offer_id"],
        }
        try:
            await self.client.call(self.commands, "AcceptOffer", command, within_seconds=30)
        except Refusal:
            return
        self.accepted.append(time.perf_counter())
        if self.ending:
            await asyncio.sleep(1.0)
            ended = SessionEnded(reason=EndReason.ENDED_BY_CONTROLLER)
            await self.publish(UUID(made["session_id"]), 2, ended)

    async def settled(self) -> None:
        for _ in range(1200):
            if len(self.first_offer) >= len(self.handed) and not self.tasks:
                return
            await asyncio.sleep(0.05)


async def steady(load: Load, queue_ids: list[UUID], rate: float, seconds: float) -> dict[str, Any]:
    """Hand-offs at a fixed rate: the time to the first offer, as a customer would wait."""
    load.reset()
    common.progress(f"{rate:.0f} hand-offs/s for {seconds:.0f} s")
    pick = random.Random(rate)
    every, begun = 1 / rate, time.perf_counter()
    for n in range(int(seconds * rate)):
        await asyncio.sleep(max(0.0, begun + n * every - time.perf_counter()))
        await load.hand_off(pick.choice(queue_ids))
    await load.settled()
    latencies = [load.first_offer[s] - t for s, t in load.handed.items() if s in load.first_offer]
    return {
        "rate": rate,
        "offered": f"{len(load.first_offer):,} of {len(load.handed):,}",
        "latency": common.summary(latencies),
        "transit": common.summary(load.transit),
    }


async def burst(load: Load, queue_ids: list[UUID], count: int) -> dict[str, float]:
    """Hand-offs as fast as they can be published, agents accepting at once: how many
    decisions and assignments routing makes per second when it is the bottleneck."""
    load.reset()
    load.ending = False
    common.progress(f"{count:,} hand-offs at once")
    pick = random.Random(count)
    begun = time.perf_counter()
    for _ in range(count // 50):
        await asyncio.gather(*(load.hand_off(pick.choice(queue_ids)) for _n in range(50)))
    await load.settled()
    offered = max(load.first_offer.values()) - begun
    assigned = max(load.accepted) - begun
    return {
        "decisions_per_second": load.offers / offered,
        "assignments_per_second": len(load.accepted) / assigned,
        "accepted": len(load.accepted),
    }


async def service(seconds: float, rates: list[float], replicas: int) -> dict[str, Any]:
    names = common.Names(uuid4().hex[:8])
    settings = names.settings(Settings, "bench_routing", session_commands=names.queue("nobody"))
    store = await PostgresEventStore.connect(common.DATABASE_URL, settings.database_schema)
    common.progress("10,000 agents and 100 queues into the log")
    queue_ids = await configure(store, 10_000, 100)
    [last] = await store.read_all(await _before_last(store), 1)
    await store.save_checkpoint("outbox", last.global_position)  # set-up is not published
    common.progress(
        f"starting {replicas} routing-svc replicas (each rebuilds its view from the log)"
    )
    started = time.perf_counter()
    env = {**os.environ, **settings.as_environment()}
    processes = await common.start_processes("routing_svc", env, replicas)
    result: dict[str, Any] = {"replicas": replicas}
    try:
        await common.wait_for_consumers(settings.command_queue, replicas)
        result["ready_seconds"] = time.perf_counter() - started
        client = await RpcClient(common.AMQP_URL).connect()
        publisher = await RabbitPublisher(common.AMQP_URL, settings.exchange).connect()
        load = Load(client, settings.command_queue, publisher)
        connection = await aio_pika.connect_robust(common.AMQP_URL)
        channel = await connection.channel()
        exchange = await channel.get_exchange(settings.exchange)
        offers = await channel.declare_queue(exclusive=True)
        await offers.bind(exchange, "routing.OfferMade")
        await offers.consume(load.on_offer, no_ack=True)
        await asyncio.sleep(3)  # the session-event consumer is up
        await steady(load, queue_ids, 50, 2)  # warm-up, not counted
        result["steady"] = [await steady(load, queue_ids, rate, seconds) for rate in rates]
        await asyncio.sleep(2)  # the last sessions end
        cpu = common.CpuMeter({"routing-svc": [p.pid for p in processes]})
        cpu.start()
        result["burst"] = await burst(load, queue_ids, 3000)
        result["burst_cpu"] = cpu.stop()
        await connection.close()
        await publisher.close()
        await client.close()
    finally:
        await common.stop_processes(processes)
        await store.close()
        await common.drop_run([settings.database_schema], names)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rates", default="50,100,200")
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument(
        "--decisions-only", action="store_true", help="the two decision tables, not the service"
    )
    args = parser.parse_args()
    cost, skilled = decision_cost(), skills_cost()
    lines = [
        "routing-svc benchmark, PostgreSQL and RabbitMQ on this machine",
        "",
        "One decision (pick the agent free longest, it takes the session, another ends one):",
        "",
        "| agents in the queue | ours: AgentPool (heaps) µs | plain scan µs |",
        "|---:|---:|---:|",
        *(f"| {n:,} | {ours:.1f} | {scan:,.0f} |" for n, ours, scan in cost),
        "",
        "One decision with skills (R9): 20 skills, each agent 8 of them at 1-5; 10 queues each"
        " needing 3 at 2 or better, relaxed after 30 s to 1 and after 60 s to 2 skills (30"
        " requirements in play); the best match free longest is chosen:",
        "",
        "| agents in the queue | ours: first decision of a requirement µs (ranking built) |"
        " ours: a decision µs | plain scan µs |",
        "|---:|---:|---:|---:|",
        *(
            f"| {n:,} | {first:,.0f} | {ours:.1f} | {scan:,.0f} |"
            for n, first, ours, scan in skilled
        ),
        "",
    ]
    if args.decisions_only:
        print("\n".join(lines))
        return
    rates = [float(r) for r in args.rates.split(",")]
    run = uvloop.run(service(args.seconds, rates, args.replicas))
    lines += [
        f"The service: 10,000 agents in 100 queues, {run['replicas']} replicas (processes),"
        f" ready {run['ready_seconds']:.1f} s after start (views rebuilt from the log).",
        "Steady hand-offs, each accepted at once and ended a second later:",
        "",
        "| hand-offs/s | offered | to first offer p50 ms | p99 ms (target 50) |"
        " offer recorded to received p50 / p99 ms |",
        "|---:|---:|---:|---:|---:|",
        *(
            f"| {r['rate']:.0f} | {r['offered']} | {r['latency'][0]:.1f} | {r['latency'][1]:.1f}"
            f" | {r['transit'][0]:.1f} / {r['transit'][1]:.1f} |"
            for r in run["steady"]
        ),
        "",
        f"A burst of 3,000 hand-offs, accepted at once: {run['burst']['decisions_per_second']:.0f}"
        f" routing decisions (offers)/s, {run['burst']['assignments_per_second']:.0f}"
        f" assignments/s (target 500), {run['burst']['accepted']:,} assigned.",
        "",
        "CPU per assignment in that burst, each process (milliseconds; from /proc; routing-svc"
        " is its replicas together; the client publishes the hand-offs and accepts):",
        "",
        common.cpu_table({"burst": (run["burst_cpu"], run["burst"]["accepted"])}),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
