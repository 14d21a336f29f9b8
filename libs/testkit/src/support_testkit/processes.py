"""A service as ops run it, for the tests that check its process: ``python -m <module>`` with
the given environment, its JSON log lines kept, and plain HTTP to its ports."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ServiceProcess:
    module: str
    process: asyncio.subprocess.Process
    logged: list[dict[str, Any]] = field(default_factory=list)

    def first(self, event: str) -> dict[str, Any]:
        return next(e for e in self.logged if e.get("event") == event)

    async def terminate(self, within: float = 20) -> int:
        """SIGTERM, then the exit code; what it logged meanwhile is kept."""
        self.process.terminate()
        assert self.process.stdout is not None
        rest = await asyncio.wait_for(self.process.stdout.read(), within)
        await asyncio.wait_for(self.process.wait(), within)
        self.logged += [_entry(line) for line in rest.decode().splitlines() if line.strip()]
        assert self.process.returncode is not None
        return self.process.returncode

    def assert_stopped_cleanly(self, code: int) -> None:
        """A clean stop: exit code 0, ``<module>.started`` and ``.stopped`` logged, every line
        JSON with its level and time, and nothing to warn of (issue 17.1: a stop once warned
        of the locks it gave up itself)."""
        assert code == 0, self.logged[-5:]
        events = {e.get("event") for e in self.logged}
        assert {f"{self.module}.started", f"{self.module}.stopped"} <= events
        assert all({"level", "timestamp"} <= set(e) for e in self.logged)
        warned = [e for e in self.logged if e["level"] in ("warning", "error", "critical")]
        assert not warned, warned


async def start_service(
    module: str, environment: dict[str, str], *, until: str, within: float = 30
) -> ServiceProcess:
    """Start it and read its log until ``until`` (e.g. ``ops.listening``); its ops port is
    chosen by the system (``OPS_PORT=0``) so that processes never share one."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module,
        env={**os.environ, **environment, "OPS_PORT": "0"},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    running = ServiceProcess(module, process)
    while not any(e.get("event") == until for e in running.logged):
        line = await asyncio.wait_for(process.stdout.readline(), within)
        assert line, f"{module} exited before {until}: {running.logged[-5:]}"
        running.logged.append(_entry(line.decode()))
    return running


def _entry(line: str) -> dict[str, Any]:
    """A JSON log line, or what else the process wrote (a warning of a library on stderr), as
    ``{"raw": line}``: kept, so a test of a clean log sees it."""
    try:
        entry = json.loads(line)
    except ValueError:
        return {"raw": line}
    return entry if isinstance(entry, dict) else {"raw": line}


async def http_get(
    port: int, path: str, headers: dict[str, str] | None = None, *, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One plain HTTP/1.1 request on loopback: status, headers (lower-case names), body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = {
        k.lower(): v for k, v in (line.split(": ", 1) for line in header_lines if ": " in line)
    }
    if fields.get("transfer-encoding") == "chunked":
        body = _unchunked(body)
    return int(status_line.split()[1]), fields, body


def _unchunked(raw: bytes) -> bytes:
    body = b""
    while raw:
        size, _, rest = raw.partition(b"\r\n")
        length = int(size.split(b";")[0], 16)
        if length == 0:
            break
        body, raw = body + rest[:length], rest[length + 2 :]
    return body
