"""session-svc benchmark: commands through RabbitMQ request/reply into 2 replicas of the
service (each its own process) on PostgreSQL, with our RpcClient and, side by side on the same
replicas, FastStream 0.7's ``broker.request()``.

A story is 5 commands, each after the reply to the one before: start a session, a customer
joins, chat starts, chat ends, the session ends.
- throughput: 16 stories at a time, as fast as the replies come;
- latency at 200 commands/s: a new story every 25 ms (5 x 40 = 200 commands/s), p50 and p99
  of every command's round trip.

Usage: uv run python bench/session/run.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import uvloop
from faststream.rabbit import RabbitBroker

from session_svc.settings import Settings
from support_rpc import RpcClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import common

STORY = 5
RATE = 200

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def ids() -> dict[str, str]:
    return {"command_id": str(uuid4()), "correlation_id": str(uuid4())}


async def story(call: Call, latencies: list[float]) -> None:
    async def timed(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        reply = await call(kind, {**ids(), **fields})
        latencies.append(time.perf_counter() - started)
        return reply

    csr = f"csr-{uuid4().hex[:12]}"
    session = await timed("StartSession", {"actor_id": csr, "csr_id": csr, "csr_name": "C"})
    sid = session["session"]["session_id"]
    await timed("JoinAsCustomer", {"session_id": sid, "name": "Bob"})
    chat = await timed(
        "StartActivity", {"actor_id": csr, "session_id": sid, "kind": "chat", "participant_id": csr}
    )
    await timed(
        "EndActivity", {"actor_id": csr, "session_id": sid, "activity_id": chat["activity_id"]}
    )
    await timed("EndSession", {"actor_id": csr, "session_id": sid})


async def throughput(call: Call, stories: int, at_once: int = 16) -> float:
    remaining = stories

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await story(call, [])

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(at_once)))
    return stories * STORY / (time.perf_counter() - started)


async def at_fixed_rate(call: Call, seconds: float) -> list[float]:
    latencies: list[float] = []
    every = STORY / RATE
    started = time.perf_counter()
    running = []
    for n in range(int(seconds / every)):
        await asyncio.sleep(max(0.0, started + n * every - time.perf_counter()))
        running.append(asyncio.create_task(story(call, latencies)))
    await asyncio.gather(*running)
    return latencies


def ours(client: RpcClient, queue: str) -> Call:
    async def call(kind: str, command: dict[str, Any]) -> dict[str, Any]:
        return await client.call(queue, kind, command)

    return call


def faststream(broker: RabbitBroker, queue: str) -> Call:
    async def call(kind: str, command: dict[str, Any]) -> dict[str, Any]:
        reply = await broker.request({"type": kind, "command": command}, queue, timeout=10)
        body: dict[str, Any] = json.loads(reply.body)
        if not body["ok"]:
            raise RuntimeError(body["error"])
        return body["result"]  # type: ignore[no-any-return]

    return call


async def measure(seconds: float) -> str:
    names = common.Names(uuid4().hex[:8])
    settings = names.settings(Settings, "bench_session", console_watch_seconds=3600)
    schema, queue = settings.database_schema, settings.command_queue
    env = {**os.environ, **settings.as_environment()}
    common.progress("starting 2 session-svc replicas")
    replicas = await common.start_processes("session_svc", env, 2)
    results: dict[str, tuple[float, float, float]] = {}
    try:
        await common.wait_for_consumers(queue, 2)
        client = await RpcClient(common.AMQP_URL).connect()
        broker = RabbitBroker(common.AMQP_URL)
        await broker.connect()
        for name, call in (
            ("ours (RpcClient)", ours(client, queue)),
            ("FastStream 0.7 broker.request()", faststream(broker, queue)),
        ):
            common.progress(f"{name}: warm-up, throughput")
            await throughput(call, 20)
            rate = await throughput(call, int(seconds * 40))
            common.progress(f"{name}: {RATE} commands/s for {seconds:.0f} s")
            p50, p99 = common.summary(await at_fixed_rate(call, seconds))
            results[name] = (rate, p50, p99)
        await client.close()
        await broker.stop()
    finally:
        await common.stop_processes(replicas)
        await common.drop_run([schema], names)
    lines = [
        f"session-svc benchmark: 2 replicas (processes), PostgreSQL and RabbitMQ on this machine,"
        f" stories of {STORY} commands, {seconds:.0f} s at {RATE} commands/s",
        "",
        f"| caller | commands/s (16 stories at once) | p50 ms at {RATE}/s | p99 ms at {RATE}/s"
        " | target p99 |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, (rate, p50, p99) in results.items():
        lines.append(f"| {name} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | 25 |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    print(uvloop.run(measure(args.seconds)))


if __name__ == "__main__":
    main()
