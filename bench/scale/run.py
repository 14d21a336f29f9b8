"""Scale benchmark (issue 13): many live sessions held at once, and what they cost.

session-svc, routing-svc, invite-svc and media-relay run as their own processes on the
machine's RabbitMQ and PostgreSQL. Live sessions are made over request/reply (a csr starts
each, a customer joins, a second csr assists) up to 1,000, then 10,000, then 50,000; up to
10,000 of their controllers hold a WebSocket to the relay (the file-descriptor limit of this
machine is 20,000). At each level:
- memory: each process's resident set, and what it grew by per live session since the start;
- start-up: a second replica of each service started on the same log, timed from its process
  start to its ``.started`` line (what rebuilding its view from the log costs), then stopped.

Usage: uv run python bench/scale/run.py [--levels 1000,10000,50000] [--relay-up-to 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import uvloop
from pydantic_settings import BaseSettings
from websockets.asyncio.client import ClientConnection, connect

from service_runtime import participant_tokens
from support_contracts.topology import Topology
from support_demo.stack import PARTICIPANT_SECRET, Service, spawn_service, start_stack
from support_rpc import RpcClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import AMQP_URL, DATABASE_URL, Names, drop_run, progress

SERVICES = ("session_svc", "routing_svc", "invite_svc", "media_relay")
AT_ONCE = 64


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(pid)


class Sessions:
    def __init__(self, client: RpcClient, queue: str, relay_port: int) -> None:
        self._client, self._queue, self._relay_port = client, queue, relay_port
        self.live: list[tuple[str, str]] = []  # (session id, its csr)
        self.sockets: list[ClientConnection] = []

    async def _call(self, kind: str, **fields: Any) -> dict[str, Any]:
        ids = {"command_id": str(uuid4()), "correlation_id": str(uuid4())}
        return await self._client.call(self._queue, kind, {**ids, **fields}, within_seconds=60)

    async def hold(self) -> None:
        """Sessions stay live however long the run: the console grace (S4) set to a day, as
        no console sends heartbeats here."""
        site = (await self._call("GetSiteSettings", actor_id="admin"))["site"]
        site["console_grace_seconds"] = 86_400
        await self._call("ChangeSiteSettings", actor_id="admin", settings=site)

    async def _one(self) -> None:
        csr = f"csr-{uuid4().hex[:12]}"
        started = await self._call(
            "StartSession", actor_id=csr, csr_id=csr, csr_name="Csr", email_invite=False
        )
        session = started["session"]["session_id"]
        await self._call("JoinAsCustomer", session_id=session, name="Customer")
        helper = f"csr-{uuid4().hex[:12]}"
        await self._call(
            "JoinAsAssistant", actor_id=helper, session_id=session, csr_id=helper, name="Helper"
        )
        self.live.append((session, csr))

    async def up_to(self, count: int) -> None:
        began, remaining = time.perf_counter(), count - len(self.live)
        made = remaining

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await self._one()

        await asyncio.gather(*(worker() for _ in range(AT_ONCE)))
        rate = 3 * made / (time.perf_counter() - began)
        progress(f"{len(self.live):,} live sessions ({rate:,.0f} commands/s while making them)")

    async def connect_controllers(self, up_to: int) -> None:
        wanted = self.live[len(self.sockets) : up_to]
        for n in range(0, len(wanted), AT_ONCE):
            self.sockets += await asyncio.gather(
                *(self._connect(s, c) for s, c in wanted[n : n + AT_ONCE])
            )
        progress(f"{len(self.sockets):,} controllers connected to the relay")

    async def _connect(self, session: str, csr: str) -> ClientConnection:
        token = participant_tokens.mint(PARTICIPANT_SECRET, csr, UUID(session), ttl_seconds=3600)
        url = f"ws://127.0.0.1:{self._relay_port}/v1/sessions/{session}/relay?token={token}"
        return await connect(url, max_queue=4)

    async def close(self) -> None:
        for n in range(0, len(self.sockets), 500):
            await asyncio.gather(*(s.close() for s in self.sockets[n : n + 500]))


async def start_up_seconds(service: Service) -> float:
    """A second replica on the same log (its own ops port, and port 0 for the relay)."""
    assert service.settings is not None
    settings: BaseSettings = service.settings
    if service.name == "media_relay":
        settings = settings.model_copy(update={"port": 0})
    began = time.perf_counter()
    replica = await spawn_service(service.name, settings)
    took = time.perf_counter() - began
    replica.process.terminate()
    await replica.process.wait()
    return took


async def log_sizes(schemas: dict[str, str]) -> dict[str, int]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        return {
            name: int(await conn.fetchval(f"SELECT count(*) FROM {schema}.events"))
            for name, schema in schemas.items()
        }
    finally:
        await conn.close()


async def measure(levels: list[int], relay_up_to: int) -> str:
    names = Names(uuid4().hex[:8])
    schemas = [f"bench_scale_{names.tag}_{n}" for n in range(5)]
    rows: list[list[str]] = []
    async with AsyncExitStack() as exits:
        progress("starting the services")
        stack = await start_stack(
            exits, AMQP_URL, DATABASE_URL, names, schemas, Path(tempfile.mkdtemp())
        )
        services = {s.name: s for s in stack.services if s.name in SERVICES}
        await asyncio.sleep(2)
        baseline = {name: resident_mb(s.process.pid) for name, s in services.items()}
        rows.append(["0", *(f"{baseline[n]:.0f} MB" for n in SERVICES), "", ""])
        client = await RpcClient(AMQP_URL).connect()
        exits.push_async_callback(client.close)
        sessions = Sessions(
            client,
            Topology(names.exchange, names.prefix).command_queue("session-svc"),
            stack.relay_port,
        )
        exits.push_async_callback(sessions.close)
        await sessions.hold()
        for level in levels:
            await sessions.up_to(level)
            await sessions.connect_controllers(min(level, relay_up_to))
            await asyncio.sleep(3)  # the consumers caught up
            memory = {name: resident_mb(s.process.pid) for name, s in services.items()}
            grown = {
                n: (memory[n] - baseline[n]) * 1024 * 1024 / level for n in SERVICES
            }  # bytes per live session
            progress(f"{level:,}: starting a second replica of each service")
            start_up = {n: await start_up_seconds(services[n]) for n in SERVICES}
            sizes = await log_sizes(stack.schemas)
            rows.append([
                f"{level:,} ({len(sessions.sockets):,} on the relay)",
                *(f"{memory[n]:.0f} MB (+{grown[n] / 1024:.1f} KiB/session)" for n in SERVICES),
                ", ".join(f"{n} {start_up[n]:.1f} s" for n in SERVICES),
                ", ".join(f"{n} {sizes[n]:,}" for n in SERVICES),
            ])  # fmt: skip
    await drop_run(schemas, names)
    header = ["live sessions", *(f"{n} memory" for n in SERVICES), "a replica's start-up",
              "events in its log"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1000,10000,50000")
    parser.add_argument("--relay-up-to", type=int, default=10_000)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    print(uvloop.run(measure(levels, args.relay_up_to)))


if __name__ == "__main__":
    main()
