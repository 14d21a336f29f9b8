"""An HTTP server of a service's own, on uvicorn, that leaves SIGTERM and SIGINT to the process
(``service_runtime.serve`` stops the service in order): the ops port of every service and the
gateway's API."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn


def free_port() -> int:
    """A loopback port free now, for a server to listen on a moment later, taken below the
    kernel's range of ephemeral ports: one bound with port 0 comes from that range, where any
    outgoing connection (to RabbitMQ, to PostgreSQL) may take it before the server listens
    (seen in CI: ``make run``'s gateway, "address already in use")."""
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ephemeral.read_text().split()[0]) if ephemeral.exists() else 32768
    for _ in range(200):
        port = random.randint(min(10_000, low - 1_000), low - 1)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {low} on 127.0.0.1")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the process's runtime handles the signals


@dataclass
class HttpServer:
    server: uvicorn.Server
    serving: asyncio.Task[None]

    @classmethod
    async def start(  # app: an ASGI application (uvicorn's own types are private)
        cls, app: Any, host: str, port: int, *, grace_seconds: int = 10
    ) -> HttpServer:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            lifespan="off",
            interface="asgi3",  # a bound method would be taken for ASGI 2
            timeout_graceful_shutdown=grace_seconds,
        )
        server = _Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                await serving  # it failed to start: say why
                raise RuntimeError(f"the HTTP server on {host}:{port} stopped before it started")
            await asyncio.sleep(0.01)
        return cls(server, serving)

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """No new connections; what is in flight finishes (for up to the grace period)."""
        self.server.should_exit = True
        await self.serving
