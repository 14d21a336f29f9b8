"""What the benchmarks share: progress lines, percentiles, services as processes, clean-up."""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
from typing import Any, TypeVar

import aio_pika
import asyncpg

AMQP_URL = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def summary(latencies: list[float]) -> tuple[float, float]:
    """Median and 99th percentile, in milliseconds, of latencies in seconds."""
    ms = sorted(x * 1000 for x in latencies)
    return statistics.median(ms), _at(ms, 0.99)


def percentiles(latencies: list[float], *quantiles: float) -> tuple[float, ...]:
    """The quantiles (0.5, 0.99, ...) in milliseconds of latencies in seconds (NaN if none)."""
    ms = sorted(x * 1000 for x in latencies) or [float("nan")]
    return tuple(_at(ms, q) for q in quantiles)


def _at(ms: list[float], quantile: float) -> float:
    return ms[min(len(ms) - 1, int(len(ms) * quantile))]


async def start_processes(
    module: str, env: dict[str, str], count: int
) -> list[asyncio.subprocess.Process]:
    return [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            env={**env, "OPS_PORT": "0"},  # each its own ops port
            stdout=asyncio.subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


async def stop_processes(processes: list[asyncio.subprocess.Process]) -> None:
    for process in processes:
        process.terminate()
    await asyncio.gather(*(p.wait() for p in processes))


async def wait_for_consumers(queue: str, count: int) -> None:
    """Until ``count`` replicas consume the command queue (a passive declare of a queue that
    does not exist yet closes its channel, so each try has a channel of its own)."""
    connection = await aio_pika.connect(AMQP_URL)
    try:
        for _ in range(600):
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(queue, passive=True)
                if (declared.declaration_result.consumer_count or 0) >= count:
                    return
                await channel.close()
            except aio_pika.exceptions.ChannelClosed:
                pass
            await asyncio.sleep(0.1)
        raise SystemExit(f"bench: the replicas did not start consuming {queue}")
    finally:
        await connection.close()


async def cleanup(schema: str, queues: list[str], exchange: str, prefix: str = "") -> None:
    """A run's schema, its queues (those named, and every one whose name starts with
    ``prefix``: the topology a service declares at start) and its exchange."""
    conn = await asyncpg.connect(DATABASE_URL)
    await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.close()
    queues = [*queues, *(await queues_named(prefix) if prefix else [])]
    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    for queue in dict.fromkeys(queues):
        await channel.queue_delete(queue)
    await channel.exchange_delete(exchange)
    await connection.close()


async def queues_named(prefix: str) -> list[str]:
    """The broker's queues whose names start with ``prefix``."""
    listed = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "list_queues", "name", "-q",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    output, _ = await listed.communicate()
    return [q for q in output.decode().split() if q.startswith(prefix)]


S = TypeVar("S")


class Names:
    """A run's exchange and queue names, all starting with its tag (``support_demo.stack``)."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    @property
    def exchange(self) -> str:
        return f"bench-{self.tag}.events"

    @property
    def prefix(self) -> str:
        return f"bench-{self.tag}."

    def queue(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def settings(self, settings: type[S], schema: str, **more: Any) -> S:
        """A service's settings for this run: a schema of its own, and every queue of the
        topology and the exchange behind the run's tag, not the default names."""
        return settings(
            amqp_url=AMQP_URL,
            database_url=DATABASE_URL,
            database_schema=f"{schema}_{self.tag}",
            queue_prefix=self.prefix,
            exchange=self.exchange,
            **more,
        )


async def drop_run(schemas: list[str], names: Names) -> None:
    """A run's schemas, and its queues and exchange (found by their names' prefix)."""
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for schema in schemas:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()
    ours = await queues_named(names.queue(""))
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        for queue in ours:
            await channel.queue_delete(queue)
        await channel.exchange_delete(names.exchange)


class CpuMeter:
    """CPU seconds (user + system, from ``/proc/<pid>/stat``) spent by named groups of
    processes between ``start()`` and ``stop()``: each service, this benchmark's own process,
    RabbitMQ (its ``beam.smp``) and PostgreSQL (the postmaster and every backend, the ones
    that ended meanwhile included: a parent is charged its waited-for children's time)."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, groups: dict[str, list[int]]) -> None:
        self.groups = {
            **groups,
            "bench client": [os.getpid()],
            "RabbitMQ": _pids_named("beam.smp"),
            "PostgreSQL": _pids_named("postgres"),
        }
        self._began: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def start(self) -> None:
        self.groups["PostgreSQL"] = _pids_named("postgres")  # backends opened since
        self._began = {name: self._seconds(pids) for name, pids in self.groups.items()}

    def stop(self) -> dict[str, float]:
        opened = [p for p in _pids_named("postgres") if p not in self.groups["PostgreSQL"]]
        self.groups["PostgreSQL"] += opened  # backends opened meanwhile: all their time
        now = {name: self._seconds(pids) for name, pids in self.groups.items()}
        self.spent = {name: now[name] - self._began[name] for name in self.groups}
        return self.spent

    def _seconds(self, pids: list[int]) -> float:
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue  # ended: its time is its parent's now, or lost with it
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        return total / self.TICK


def _pids_named(name: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() == name:
                        found.append(int(entry))
            except OSError:
                continue
    return found


def cpu_table(phases: dict[str, tuple[dict[str, float], int]]) -> str:
    """Each process's CPU milliseconds per command (or round trip) in each phase, given its
    CPU seconds spent and how many were done, and their sum without the benchmark's own
    client; blank where a process had no part in a phase."""
    names = list(dict.fromkeys(name for spent, _ in phases.values() for name in spent))
    lines = ["| process | " + " | ".join(phases) + " |", "|---|" + "---:|" * len(phases)]
    for name in names:
        cells = [
            f"{1000 * spent[name] / max(done, 1):.2f}" if name in spent else ""
            for spent, done in phases.values()
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    sums = [
        sum(s for n, s in spent.items() if n != "bench client") * 1000 / max(done, 1)
        for spent, done in phases.values()
    ]
    lines.append("| **all but the client** | " + " | ".join(f"**{s:.2f}**" for s in sums) + " |")
    return "\n".join(lines)
