"""``make run`` as a test starts it (``python -m support_demo.run``): its output read as it
comes, the gateway's URL and the development tokens it printed, stopped with Ctrl-C (SIGINT);
and what a run on the real servers keeps for the next (its schemas and queues), forgotten."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aio_pika
import asyncpg

from support_contracts import EXCHANGE
from support_contracts.topology import Topology

READY = "Ctrl-C stops it."
SCHEMAS = ("session", "invite", "routing", "relay", "gateway")


class Run:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process, self.lines = process, list[str]()

    async def read_until(self, pattern: str, within: float = 60) -> re.Match[str]:
        """The first line (read so far, or coming) that matches."""
        assert self.process.stdout is not None
        async with asyncio.timeout(within):
            while True:
                for line in self.lines:
                    if found := re.search(pattern, line):
                        return found
                read = await self.process.stdout.readline()
                assert read, f"make run ended before {pattern!r}:\n" + "\n".join(self.lines)
                self.lines.append(read.decode().rstrip())

    @property
    def gateway(self) -> str:
        [url] = [m[1] for line in self.lines if (m := re.search(r"gateway API +(\S+)/v1", line))]
        return url

    @property
    def folder(self) -> Path:
        """``RUN_DIR``: where the run keeps its mail, logs and recordings."""
        [kept] = [m[1] for line in self.lines if (m := re.search(r"kept under (\S+) and", line))]
        return Path(kept).parent

    def token_of(self, user: str) -> dict[str, str]:
        """The headers of a development token the run printed (alice, dave, admin)."""
        at = next(i for i, line in enumerate(self.lines) if line.endswith(f", {user}:"))
        return {"Authorization": self.lines[at + 1].split("Authorization: ")[1]}

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)  # Ctrl-C
        await self.read_until("^run: stopped$", within=60)
        return await asyncio.wait_for(self.process.wait(), 30)


@asynccontextmanager
async def make_run(folder: Path, **environment: str) -> AsyncIterator[Run]:
    """Started on ports of its own, keeping its files in ``folder``; killed if still running."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "support_demo.run",
        env={**os.environ, "GATEWAY_PORT": "0", "RELAY_PORT": "0", "RUN_DIR": str(folder),
             **environment},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    run = Run(process)
    try:
        await run.read_until(READY)
        yield run
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def forget(amqp_url: str, database_url: str, name: str) -> None:
    """What a run named ``name`` keeps for the next: its schemas and its queues."""
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    for queue in Topology(EXCHANGE, f"{name}.").queues:
        await channel.queue_delete(queue)
    await connection.close()
    conn = await asyncpg.connect(database_url)
    for service in SCHEMAS:
        await conn.execute(f"DROP SCHEMA IF EXISTS {name}_{service} CASCADE")
    await conn.close()
