"""An HTTP server of a service's own, on uvicorn, that leaves SIGTERM and SIGINT to the process
(``service_runtime.serve`` stops the service in order): the ops port of every service and the
gateway's API."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn


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
