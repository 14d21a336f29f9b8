"""media-relay benchmark, side by side with a naive relay (``naive.py``: every viewer's send
awaited in turn, the design most tutorials show).

Each relay runs as its own process; this process plays every client over real WebSockets on
loopback. For ours, session-svc (in this process, idle while measuring) sets up a session per
scenario with the viewers as participants and the activities running, and each client shows a
participant token.

Scenarios: one sharer at 30 frames/s of 64 KiB to 1, 10 and 50 viewers; chat at 30 messages/s
to 10 participants; 10 viewers plus one that reads at a tenth of the rate (3 frames/s, on a
small socket buffer). Measured per scenario: p50/p99 latency from send to receipt over the
viewers that keep up, the bytes per second they received, and the frames they did not get.

Targets (issue #6): p99 frame latency at most 20 ms for 10 viewers; with the slow viewer, the
others' p99 within 20% of the 10-viewer p99.

Usage: uv run python bench/relay/run.py [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from media_relay import frames
from media_relay.settings import Settings as RelaySettings
from service_runtime.participant_tokens import mint
from session_svc.bootstrap import start as start_session_svc
from session_svc.settings import Settings as SessionSettings
from support_contracts.topology import Topology
from support_rpc import RpcClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import AMQP_URL, DATABASE_URL, cleanup, progress, summary

SECRET = "the-relay-benchmark-secret-of-32-chars"
FRAME_BYTES = 64 * 1024
FPS = 30
STAMP = struct.Struct(">q")


@dataclass
class Viewer:
    ws: ClientConnection
    slow: bool = False
    latencies: list[float] = field(default_factory=list)
    frames: int = 0
    bytes: int = 0


@dataclass
class Scenario:
    name: str
    viewers: int
    slow: bool = False
    chat: bool = False


@dataclass
class Result:
    relay: str
    scenario: Scenario
    p50: float
    p99: float
    mbps: float
    missed: int
    slow_got: int | None


SCENARIOS = [
    Scenario("share to 1", 1),
    Scenario("share to 10", 10),
    Scenario("share to 50", 50),
    Scenario("chat to 10", 10, chat=True),
    Scenario("share to 10 + 1 slow", 10, slow=True),
]


class Ours:
    """Our relay, with a session of session-svc per scenario."""

    name = "media-relay"

    def __init__(self, port: int, rpc: RpcClient, commands: str) -> None:
        self.port, self._rpc, self._commands = port, rpc, commands

    async def _call(self, command_type: str, actor: str, **fields: Any) -> dict[str, Any]:
        ids = {"command_id": str(uuid4()), "correlation_id": str(uuid4()), "actor_id": actor}
        return await self._rpc.call(self._commands, command_type, {**ids, **fields})

    async def room(self, viewers: int) -> tuple[str, list[str], dict[str, str]]:
        """A session: its id, the viewers' participant ids, the running activities' ids."""
        sharer = f"csr-{uuid4().hex[:8]}"
        started = await self._call("StartSession", sharer, csr_id=sharer, csr_name="Sharer")
        session = str(started["session"]["session_id"])
        names = []
        for n in range(viewers + 1):
            name = f"viewer-{n}-{uuid4().hex[:6]}"
            await self._call("JoinAsAssistant", name, session_id=session, csr_id=name, name=name)
            names.append(name)
        activities = {}
        for kind in ("desktop_sharing", "chat"):
            reply = await self._call(
                "StartActivity", sharer, session_id=session, kind=kind, participant_id=sharer
            )
            activities[kind] = str(reply["activity_id"])
        self._session = session
        return sharer, names, activities

    def url(self, participant: str) -> str:
        token = mint(SECRET, participant, UUID(self._session), ttl_seconds=3600)
        return f"ws://127.0.0.1:{self.port}/v1/sessions/{self._session}/relay?token={token}"


class Naive:
    name = "naive relay"

    def __init__(self, port: int) -> None:
        self.port = port

    async def room(self, viewers: int) -> tuple[str, list[str], dict[str, str]]:
        names = [f"viewer-{n}" for n in range(viewers + 1)]
        return "sharer", names, {"desktop_sharing": str(uuid4()), "chat": str(uuid4())}

    def url(self, participant: str) -> str:
        return f"ws://127.0.0.1:{self.port}/"


async def open_client(url: str, *, small_buffer: bool = False) -> ClientConnection:
    sock = None
    if small_buffer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
        host, port = url.removeprefix("ws://").split("/")[0].split(":")
        sock.connect((host, int(port)))
        sock.setblocking(False)
    return await connect(
        url, sock=sock, compression=None, max_size=2**21, max_queue=1 if small_buffer else 16
    )


async def read(viewer: Viewer, warm_until: float) -> None:
    try:
        async for message in viewer.ws:
            now = time.time_ns()
            if isinstance(message, bytes):
                payload = frames.parse(message).payload
                sent = STAMP.unpack_from(payload)[0]
                size = len(message)
            else:
                notice = json.loads(message)
                if notice.get("type") != "chat":
                    continue
                sent, size = int(notice["text"]), len(message)
            if time.monotonic() >= warm_until:
                viewer.frames += 1
                viewer.bytes += size
                viewer.latencies.append((now - sent) / 1e9)
            if viewer.slow:
                await asyncio.sleep(1 / (FPS / 10))  # reads at a tenth of the rate
    except ConnectionClosed:
        pass


async def run_scenario(relay: Ours | Naive, scenario: Scenario, seconds: float) -> Result:
    sharer_id, names, activities = await relay.room(scenario.viewers + scenario.slow)
    sharer = await open_client(relay.url(sharer_id))
    viewers = [Viewer(await open_client(relay.url(n))) for n in names[: scenario.viewers]]
    if scenario.slow:
        slow_ws = await open_client(relay.url(names[scenario.viewers]), small_buffer=True)
        viewers.append(Viewer(slow_ws, slow=True))
    await asyncio.sleep(0.3)  # the welcomes
    warm_until = time.monotonic() + 1.0
    readers = [asyncio.create_task(read(v, warm_until)) for v in viewers]
    picture = bytearray(os.urandom(FRAME_BYTES))
    sent = n = 0
    began = time.monotonic()
    while (elapsed := time.monotonic() - began) < seconds + 1.0:
        if scenario.chat:
            chat = {"type": "chat", "text": str(time.time_ns())}
            await sharer.send(json.dumps(chat))
        else:
            STAMP.pack_into(picture, 0, time.time_ns())
            header = {"kind": "share", "activity_id": activities["desktop_sharing"]}
            await sharer.send(frames.encode(header, picture))
        n += 1
        sent += elapsed >= 1.0
        await asyncio.sleep(max(0.0, began + n / FPS - time.monotonic()))
    await asyncio.sleep(1.0)  # the last ones arrive
    for ws in [sharer] + [v.ws for v in viewers]:
        await ws.close()
    await asyncio.gather(*readers, return_exceptions=True)
    keeping_up = [v for v in viewers if not v.slow]
    latencies = [x for v in keeping_up for x in v.latencies]
    p50, p99 = summary(latencies) if latencies else (float("nan"), float("nan"))
    missed = sum(max(0, sent - v.frames) for v in keeping_up)
    mbps = sum(v.bytes for v in keeping_up) / seconds / 1e6
    slow_got = next((v.frames for v in viewers if v.slow), None)
    return Result(relay.name, scenario, p50, p99, mbps, missed, slow_got)


async def start_naive(port: int) -> asyncio.subprocess.Process:
    naive = Path(__file__).with_name("naive.py")
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(naive), str(port), stdout=asyncio.subprocess.PIPE
    )
    assert process.stdout is not None
    await process.stdout.readline()
    return process


async def start_ours(settings: RelaySettings) -> tuple[asyncio.subprocess.Process, int]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "media_relay",
        env={**os.environ, **settings.as_environment(), "OPS_PORT": "0"},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    while True:
        line = await process.stdout.readline()
        if not line:
            raise SystemExit("bench: media-relay exited before it started")
        event = json.loads(line)
        if event["event"] == "media_relay.started":
            asyncio.create_task(process.stdout.read())  # keep the pipe from filling  # noqa: RUF006
            return process, int(event["port"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main(seconds: float) -> None:
    run = uuid4().hex[:8]
    exchange, schema = f"bench-relay-{run}", f"bench_relay_{run}"
    session_schema = f"bench_relay_sessions_{run}"
    topology = Topology(exchange, f"bench-relay-{run}.")  # every service declares all of it
    commands, queues = topology.command_queue("session-svc"), topology.queues
    sessions = await start_session_svc(
        SessionSettings(
            amqp_url=AMQP_URL,
            database_url=DATABASE_URL,
            database_schema=session_schema,
            exchange=exchange,
            queue_prefix=topology.prefix,
            console_watch_seconds=3600,
        )
    )
    relay_settings = RelaySettings(
        amqp_url=AMQP_URL,
        database_url=DATABASE_URL,
        database_schema=schema,
        exchange=exchange,
        queue_prefix=topology.prefix,
        host="127.0.0.1",
        port=free_port(),
        participant_token_secret=SECRET,
        recordings_dir=Path(f"/tmp/bench-relay-{run}"),
    )
    ours_process, port = await start_ours(relay_settings)
    naive_port = free_port()
    naive_process = await start_naive(naive_port)
    rpc = await RpcClient(AMQP_URL).connect()
    results: list[Result] = []
    try:
        relays: list[Ours | Naive] = [Ours(port, rpc, commands), Naive(naive_port)]
        for scenario in SCENARIOS:
            for relay in relays:
                progress(f"{relay.name}: {scenario.name} for {seconds:.0f} s")
                results.append(await run_scenario(relay, scenario, seconds))
    finally:
        await rpc.close()
        for process in (ours_process, naive_process):
            process.terminate()
            await process.wait()
        await sessions.stop()
        await cleanup(session_schema, queues, exchange)
        await cleanup(schema, [], exchange)
    report(results, seconds)


def report(results: list[Result], seconds: float) -> None:
    print(f"\nmedia-relay against a naive relay: {FPS} per second of {FRAME_BYTES // 1024} KiB")
    print(f"frames (or chat), {seconds:.0f} s measured after 1 s of warm-up, loopback, 2 cores\n")
    print("| scenario | relay | p50 ms | p99 ms | MB/s received | missed (keeping up) | slow got |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        slow = "" if r.slow_got is None else str(r.slow_got)
        print(
            f"| {r.scenario.name} | {r.relay} | {r.p50:.1f} | {r.p99:.1f} | {r.mbps:.1f} "
            f"| {r.missed} | {slow} |"
        )
    ours = {r.scenario.name: r for r in results if r.relay == "media-relay"}
    base, slow = ours["share to 10"].p99, ours["share to 10 + 1 slow"].p99
    print(
        f"\ntargets: p99 to 10 viewers {base:.1f} ms (at most 20); with a slow viewer "
        f"{slow:.1f} ms, {100 * (slow - base) / base:+.0f}% (within 20%)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    uvloop.run(main(parser.parse_args().seconds))
