"""End-to-end benchmark of issue 19's load: 16 csrs through the gateway, each in a loop of start
a session, a customer joins it by number, end it; every service its own process
(``support_demo.stack``) on the machine's RabbitMQ and PostgreSQL, beside the bare
request/reply measured in the same run (``run.bare_request_reply``).

Unlike ``run.py``'s status change (one service, one event), these commands are session-svc's,
and their events fan out: invite-svc, routing-svc and media-relay follow the session's events,
the relay keeping its own copy. Reported: commands per second (each of the three is one),
their answer's p50 and p99, and the CPU milliseconds per command of each process (from
``/proc``, ``common.CpuMeter``). With ``--profile DIR``, py-spy samples every service as in
``run.py`` (``hot.py DIR`` sums the stacks).

Usage: uv run python bench/e2e/sessions.py [--seconds 10] [--profile DIR]
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from uuid import uuid4

import aiohttp

from support_demo.stack import staff

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
from run import bare_request_reply, cli, every_service, profiled, service_pids

CSRS = 16


class Loop:
    """One csr's start, join by number, end, again and again, each answer timed."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http
        self.latencies: list[float] = []
        self.failed = 0

    async def _call(self, method: str, path: str, body: object, headers: dict[str, str]) -> dict:
        began = time.perf_counter()
        async with self.http.request(method, path, json=body, headers=headers) as reply:
            answer = await reply.json()
        if reply.status >= 300:
            self.failed += 1
            raise RuntimeError(f"{method} {path}: {reply.status} {answer}")
        self.latencies.append(time.perf_counter() - began)
        return answer  # type: ignore[no-any-return]

    async def once(self, csr: dict[str, str]) -> int:
        """One round; the commands it did."""
        started = await self._call("POST", "/v1/sessions", {"email_invite": False}, csr)
        joining = {"session_number": started["session_number"], "name": "Carol"}
        await self._call("POST", "/v1/join", joining, {})
        await self._call("POST", f"/v1/sessions/{started['session_id']}/end", None, csr)
        return 3


async def loops(loop: Loop, seconds: float) -> tuple[float, int]:
    done, deadline = 0, time.perf_counter() + seconds

    async def csr(n: int) -> None:
        nonlocal done
        headers = staff(f"csr-{n}", "csr")
        while time.perf_counter() < deadline:
            did = await loop.once(headers)  # not `done += await ...`: done would be read first
            done += did

    began = time.perf_counter()
    await asyncio.gather(*(csr(n) for n in range(CSRS)))
    return done / (time.perf_counter() - began), done


async def measure(seconds: float, profile: Path | None) -> str:
    tag = uuid4().hex[:8]
    common.progress(f"bare request/reply for {seconds:.0f} s")
    bare_rpc, bare_done, bare_spent = await bare_request_reply(seconds, f"bench-{tag}.echo")
    async with every_service(tag) as (exits, stack, _):
        connector = aiohttp.TCPConnector(limit=CSRS * 2)
        http = await exits.enter_async_context(
            aiohttp.ClientSession(stack.gateway_url, connector=connector)
        )
        loop = Loop(http)
        await loops(loop, 2)  # warm: connections, prepared statements, the relay's first fold
        loop.latencies.clear()
        pids = service_pids(stack)
        common.progress(f"{CSRS} csrs in a loop of start, join by number, end, for {seconds:.0f} s")
        cpu = common.CpuMeter(pids)
        samplers = [] if profile is None else await profiled(pids, seconds, profile)
        cpu.start()
        rate, done = await loops(loop, seconds)
        await asyncio.gather(*(sampler.wait() for sampler in samplers))
        await asyncio.sleep(1.0)  # the followers done with the last events
        spent = cpu.stop()
    p50, p99 = common.percentiles(loop.latencies, 0.5, 0.99)
    lines = [
        "| measure | result | ratio | target |",
        "|---|---|---|---|",
        f"| bare RabbitMQ request/reply | {bare_rpc:,.0f} round trips/s |  |  |",
        f"| {CSRS} csrs: start, join, end | {rate:,.0f} commands/s | "
        f"{rate / bare_rpc:.0%} of bare request/reply | >= 40% |",
        f"| answer: p50 / p99 | {p50:.1f} / {p99:.1f} ms |  |  |",
        f"\n{loop.failed} requests failed.",
        "\nCPU per command, each process (milliseconds; from /proc):\n",
        common.cpu_table({f"{CSRS} csrs, start/join/end": (spent, done),
                   "bare request/reply, 32 at a time": (bare_spent, bare_done)}),
    ]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    cli(measure, __doc__)
