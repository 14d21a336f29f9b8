"""End-to-end benchmark (issue 13): commands through the gateway with every service its own
process (``support_demo.stack``) on the machine's RabbitMQ and PostgreSQL, beside the bare
limits of those two measured in the same run.

The command is an agent changing its status (``PUT /v1/agents/me/status``, available and away
in turn): the gateway, a request/reply to routing-svc, one event appended to its log, the
outbox relay, ``support.events``. Each request carries an ``X-Correlation-Id``; a subscriber
on the exchange notes when the event with that correlation id arrives.
- bare request/reply: an echo server in a process of its own (aio-pika, no work) and a client
  with direct reply-to, 32 requests in flight: round trips per second;
- bare INSERT: one row a statement, autocommit, 32 at a time on a pool of 16 (asyncpg);
- throughput: 32 agents at a time, each request after the last one's answer;
- latency at 200 commands/s: a request every 5 ms whatever the answers do; p50, p99, p99.9 of
  the answer, and of the delay from the answer to its event at the subscriber;
- CPU per command (issue 19) of each process, at 200 commands/s and 32 at a time, beside the
  bare request/reply's per round trip: user and system time from ``/proc/<pid>/stat``
  (``common.CpuMeter``), for every service, RabbitMQ, PostgreSQL and this client. On a noisy
  machine it moves less than the rates do, and the ratio of ours to the bare one in the same
  run moves less still.

With ``--profile DIR``, py-spy (``uv tool run py-spy``) samples each service during the
throughput phase and writes its stacks, folded (one line a stack and its count), to
``DIR/<service>-<pid>.txt``; ``bench/e2e/hot.py DIR`` sums them by function. The sampler takes
a core's share of its own, so the figures of a profiled run are not the table's.

Usage: uv run python bench/e2e/run.py [--seconds 10] [--profile DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from uuid import uuid4

import aio_pika
import aiohttp
import asyncpg
import uvloop

from support_demo.stack import Stack, staff, start_stack

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import common

AT_ONCE = 32
RATE = 200
ECHO = Path(__file__).with_name("echo.py")


async def bare_request_reply(seconds: float, queue: str) -> tuple[float, int, dict[str, float]]:
    """Round trips per second, how many, and the CPU seconds each process spent on them."""
    server = await asyncio.create_subprocess_exec(sys.executable, str(ECHO), common.AMQP_URL, queue)
    connection = await aio_pika.connect(common.AMQP_URL)
    try:
        channel = await connection.channel()
        await channel.declare_queue(queue, auto_delete=True)
        waiting: dict[str, asyncio.Future[None]] = {}

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            waiting.pop(str(message.correlation_id)).set_result(None)

        replies = await channel.get_queue("amq.rabbitmq.reply-to", ensure=False)
        await replies.consume(on_reply, no_ack=True)
        done, deadline = 0, time.perf_counter() + seconds
        await asyncio.sleep(1)  # the echo server consuming

        async def client() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                ask = str(uuid4())
                waiting[ask] = asyncio.get_running_loop().create_future()
                message = aio_pika.Message(
                    b'{"type": "Echo", "command": {}}',
                    correlation_id=ask,
                    reply_to="amq.rabbitmq.reply-to",
                )
                await channel.default_exchange.publish(message, routing_key=queue)
                await waiting[ask]
                done += 1

        cpu = common.CpuMeter({"echo server": [server.pid]})
        cpu.start()
        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(AT_ONCE)))
        rate = done / (time.perf_counter() - began)
        return rate, done, cpu.stop()
    finally:
        server.terminate()
        await server.wait()
        await connection.close()


async def bare_inserts(seconds: float) -> float:
    table = f"bench_insert_{uuid4().hex[:8]}"
    pool = await asyncpg.create_pool(common.DATABASE_URL, min_size=16, max_size=16)
    assert pool is not None
    try:
        await pool.execute(f"CREATE TABLE {table} (id uuid PRIMARY KEY, body jsonb)")
        done, deadline = 0, time.perf_counter() + seconds

        async def writer() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                await pool.execute(f"INSERT INTO {table} VALUES ($1, '{{}}')", uuid4())
                done += 1

        began = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(AT_ONCE)))
        return done / (time.perf_counter() - began)
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {table}")
        await pool.close()


class Arrivals:
    """A subscriber on the events exchange: when each correlation id's event arrived."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    async def start(self, exits: AsyncExitStack, names: common.Names) -> None:
        connection = await aio_pika.connect(common.AMQP_URL)
        exits.push_async_callback(connection.close)
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            names.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(names.queue("arrivals"), exclusive=True)
        await queue.bind(exchange, "routing.AgentStatusChanged")

        async def arrived(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            self.at.setdefault(str(message.correlation_id), time.perf_counter())

        await queue.consume(arrived, no_ack=True)


class Agents:
    """Agents through the gateway, by aiohttp: httpx cost the client more CPU than the gateway
    had (86% of a core for 160 commands/s, measured), and the client shares the machine."""

    def __init__(self, http: aiohttp.ClientSession, count: int) -> None:
        self.http = http
        self.headers = [staff(f"agent-{n}", "agent") for n in range(count)]
        self.available = [False] * count
        self.answered: dict[str, float] = {}  # correlation id: when its answer came
        self.latencies: list[float] = []
        self.failed = 0

    async def set_up(self) -> None:
        admin = staff("admin", "admin")
        for n in range(len(self.headers)):
            body = {"name": f"Agent {n}", "max_sessions": 2}
            path = f"/v1/admin/agents/agent-{n}"
            async with self.http.put(path, json=body, headers=admin) as reply:
                reply.raise_for_status()

    async def toggle(self, n: int) -> None:
        self.available[n] = not self.available[n]
        status = "available" if self.available[n] else "away"
        correlation = str(uuid4())
        headers = {**self.headers[n], "X-Correlation-Id": correlation}
        began = time.perf_counter()
        path = "/v1/agents/me/status"
        async with self.http.put(path, json={"status": status}, headers=headers) as reply:
            await reply.read()
        answered = time.perf_counter()
        if reply.status != 200:
            self.failed += 1
            return
        self.latencies.append(answered - began)
        self.answered[correlation] = answered


async def throughput(agents: Agents, seconds: float) -> tuple[float, int]:
    """Commands per second, and how many were done."""
    done, deadline = 0, time.perf_counter() + seconds

    async def worker(n: int) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await agents.toggle(n)
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(AT_ONCE)))
    return done / (time.perf_counter() - began), done


async def at_rate(agents: Agents, seconds: float) -> None:
    """One request every 1/RATE s, round the agents; an agent's next waits for its last."""
    count = len(agents.headers)
    last: list[asyncio.Task[None] | None] = [None] * count
    began = time.perf_counter()
    for k in range(int(seconds * RATE)):
        await asyncio.sleep(max(0.0, began + k / RATE - time.perf_counter()))
        n = k % count

        async def after(previous: asyncio.Task[None] | None, n: int = n) -> None:
            if previous is not None:
                await previous
            await agents.toggle(n)

        last[n] = asyncio.create_task(after(last[n]))
    await asyncio.gather(*(t for t in last if t is not None))


async def profiled(
    pids: dict[str, list[int]], seconds: float, into: Path
) -> list[asyncio.subprocess.Process]:
    """A py-spy sampler on every service process, for ``seconds``."""
    await asyncio.to_thread(into.mkdir, parents=True, exist_ok=True)
    return [
        await asyncio.create_subprocess_exec(
            "uv", "tool", "run", "py-spy", "record", "--nonblocking", "--format", "raw",
            "--rate", "250", "--duration", str(int(seconds)), "--pid", str(pid),
            "--output", str(into / f"{name}-{pid}.txt"),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        for name, group in pids.items()
        for pid in group
    ]  # fmt: skip


@asynccontextmanager
async def every_service(tag: str) -> AsyncIterator[tuple[AsyncExitStack, Stack, common.Names]]:
    """Every service as its own process on the run's own names (``common.Names``), stopped
    and its schemas, queues and exchange dropped after."""
    names = common.Names(tag)
    schemas = [f"bench_e2e_{tag}_{n}" for n in range(5)]
    try:
        async with AsyncExitStack() as exits:
            common.progress("starting every service as its own process")
            stack = await start_stack(
                exits,
                common.AMQP_URL,
                common.DATABASE_URL,
                names,
                schemas,
                Path(tempfile.mkdtemp()),
            )
            yield exits, stack, names
    finally:
        await common.drop_run(schemas, names)


async def measure(seconds: float, profile: Path | None = None) -> str:
    tag = uuid4().hex[:8]
    common.progress(f"bare request/reply for {seconds:.0f} s")
    bare_rpc, bare_done, bare_spent = await bare_request_reply(seconds, f"bench-{tag}.echo")
    common.progress(f"bare INSERTs for {seconds:.0f} s")
    bare_insert = await bare_inserts(seconds)
    async with every_service(tag) as (exits, stack, names):
        arrivals = Arrivals()
        await arrivals.start(exits, names)
        connector = aiohttp.TCPConnector(limit=AT_ONCE * 2)
        http = await exits.enter_async_context(
            aiohttp.ClientSession(stack.gateway_url, connector=connector)
        )
        agents = Agents(http, 64)
        await agents.set_up()
        common.progress(f"throughput, {AT_ONCE} at a time, for {seconds:.0f} s")
        pids = service_pids(stack)
        cpu = common.CpuMeter(pids)
        samplers = [] if profile is None else await profiled(pids, seconds, profile)
        cpu.start()
        rate, done = await throughput(agents, seconds)
        await asyncio.gather(*(sampler.wait() for sampler in samplers))
        await asyncio.sleep(0.5)  # the last events published and delivered
        spent = cpu.stop()
        agents.latencies.clear()
        agents.answered.clear()
        arrivals.at.clear()
        common.progress(f"latency at {RATE} commands/s for {seconds:.0f} s")
        cpu.start()
        await at_rate(agents, seconds)
        await asyncio.sleep(0.5)  # the last events on their way
        spent_at_rate = cpu.stop()
        await asyncio.sleep(1.5)
        delays = [
            max(0.0, arrivals.at[c] - at) for c, at in agents.answered.items() if c in arrivals.at
        ]
        missing = len(agents.answered) - len(delays)
    answer = common.percentiles(agents.latencies, 0.5, 0.99, 0.999)
    delivery = common.percentiles(delays, 0.5, 0.99, 0.999)
    rows = [
        ("bare RabbitMQ request/reply", f"{bare_rpc:,.0f} round trips/s", "", ""),
        ("bare PostgreSQL INSERT", f"{bare_insert:,.0f} rows/s", "", ""),
        ("gateway, 32 at a time", f"{rate:,.0f} commands/s",
         f"{rate / bare_rpc:.0%} of bare request/reply", ">= 60%"),
        (f"answer at {RATE}/s: p50 / p99 / p99.9", "{:.1f} / {:.1f} / {:.1f} ms".format(*answer),
         "", "p99 <= 25 ms"),
        ("event at subscriber after answer: p50 / p99 / p99.9",
         "{:.1f} / {:.1f} / {:.1f} ms".format(*delivery), "", "p99 <= 50 ms"),
    ]  # fmt: skip
    lines = [
        "| measure | result | ratio | target |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        f"\n{agents.failed} requests failed; {missing} events did not arrive.",
        "\nCPU per command, each process (milliseconds; from /proc):\n",
        common.cpu_table({f"gateway, {RATE} commands/s": (spent_at_rate, int(seconds * RATE)),
                   f"gateway, {AT_ONCE} at a time": (spent, done),
                   f"bare request/reply, {AT_ONCE} at a time": (bare_spent, bare_done)}),
    ]  # fmt: skip
    return "\n".join(lines)


def service_pids(stack: Stack) -> dict[str, list[int]]:
    """Each service's processes by name, as ``CpuMeter`` and ``profiled`` take them."""
    pids: dict[str, list[int]] = {}
    for service in stack.services:
        pids.setdefault(service.name.replace("_", "-"), []).append(service.process.pid)
    return pids


def cli(measuring: Callable[[float, Path | None], Awaitable[str]], doc: str) -> None:
    """A benchmark's command line: ``--seconds``, ``--profile``; its table printed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--profile", type=Path, help="py-spy each service into this folder")
    args = parser.parse_args()
    print(uvloop.run(measuring(args.seconds, args.profile)))


if __name__ == "__main__":
    cli(measure, __doc__)
