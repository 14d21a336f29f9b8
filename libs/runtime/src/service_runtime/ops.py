"""What Kubernetes and Prometheus ask every service, on a small HTTP port of its own:

- ``GET /healthz``: the process is alive (the event loop answers);
- ``GET /readyz``: every readiness check passes (the broker and the database answer, the log's
  migrations are applied), else 503 with what failed;
- ``GET /metrics``: Prometheus' text format (the default registry). Gauges that need I/O
  (outbox lag, open sessions, queue lengths) are refreshed just before each scrape.

A small ASGI app on uvicorn (``service_runtime.http``), ``/metrics`` answered by
``prometheus_client``'s own ASGI app (issue 15.8: no hand-written HTTP).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from prometheus_client import make_asgi_app

from service_runtime.http import HttpServer

log = structlog.get_logger(__name__)

Check = Callable[[], Awaitable[None]]  # raises when not ready, with why
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Refresh = Callable[[], Awaitable[None]]


@dataclass
class Readiness:
    name: str
    check: Check


class OpsServer:
    def __init__(
        self,
        readiness: Sequence[Readiness] = (),
        refresh: Sequence[Refresh] = (),
        *,
        check_seconds: float = 3.0,
    ) -> None:
        self._readiness, self._refresh, self._timeout = (
            list(readiness),
            list(refresh),
            check_seconds,
        )
        self._server: HttpServer | None = None
        self._metrics = make_asgi_app()
        self.port = 0
        self.stopping = False  # set on SIGTERM: not ready, while the work in hand finishes

    async def start(self, host: str, port: int) -> OpsServer:
        self._server = await HttpServer.start(self._app, host, port, grace_seconds=1)
        self.port = self._server.port
        log.info("ops.listening", host=host, port=self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop()

    close = stop  # a resource to close as well as a door to stop

    async def ready(self) -> dict[str, str]:
        """What is not ready, and why (empty when all is)."""
        failed: dict[str, str] = (
            {"stopping": "the service is shutting down"} if self.stopping else {}
        )
        for item in self._readiness:
            try:
                await asyncio.wait_for(item.check(), self._timeout)
            except Exception as error:  # a probe reports, it does not crash
                failed[item.name] = (
                    f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                )
        return failed

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if scope["method"] != "GET":
            return await _send(send, 405, "text/plain", b"GET only\n")
        if path == "/healthz":
            return await _send(send, 200, "application/json", b'{"alive": true}')
        if path == "/readyz":
            failed = await self.ready()
            body = json.dumps({"ready": not failed, "failed": failed}).encode()
            return await _send(send, 503 if failed else 200, "application/json", body)
        if path == "/metrics":
            for refresh in self._refresh:
                try:
                    await asyncio.wait_for(refresh(), self._timeout)
                except Exception as error:  # stale gauges rather than no metrics
                    log.warning("ops.refresh_failed", error=repr(error))
            await self._metrics(scope, receive, send)
            return
        await _send(send, 404, "text/plain", b"/healthz, /readyz or /metrics\n")


async def _send(send: Send, status: int, content_type: str, body: bytes) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
