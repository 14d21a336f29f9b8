"""What Kubernetes and Prometheus ask every service, on a small HTTP port of its own:

- ``GET /healthz``: the process is alive (the event loop answers);
- ``GET /readyz``: every readiness check passes (the broker and the database answer, the log's
  migrations are applied), else 503 with what failed;
- ``GET /metrics``: Prometheus' text format (the default registry). Gauges that need I/O
  (outbox lag, open sessions, queue lengths) are refreshed just before each scrape.

A plain asyncio server (HTTP/1.1, one request a connection): nothing else to run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = structlog.get_logger(__name__)

Check = Callable[[], Awaitable[None]]  # raises when not ready, with why
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
        self._server: asyncio.Server | None = None
        self.port = 0
        self.stopping = False  # set on SIGTERM: not ready, while the work in hand finishes

    async def start(self, host: str, port: int) -> OpsServer:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        log.info("ops.listening", host=host, port=self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass  # headers: nothing here needs them
            parts = request.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else ""
            status, content_type, body = await self._answer(parts[0] if parts else "", path)
            head = (
                f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, method: str, path: str) -> tuple[str, str, bytes]:
        if method != "GET":
            return "405 Method Not Allowed", "text/plain", b"GET only\n"
        if path == "/healthz":
            return "200 OK", "application/json", b'{"alive": true}'
        if path == "/readyz":
            failed = await self.ready()
            body = json.dumps({"ready": not failed, "failed": failed}).encode()
            return ("503 Service Unavailable" if failed else "200 OK"), "application/json", body
        if path == "/metrics":
            for refresh in self._refresh:
                try:
                    await asyncio.wait_for(refresh(), self._timeout)
                except Exception as error:  # stale gauges rather than no metrics
                    log.warning("ops.refresh_failed", error=repr(error))
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest()
        return "404 Not Found", "text/plain", b"/healthz, /readyz or /metrics\n"
