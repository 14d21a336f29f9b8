"""Builds the gateway from settings: identity, the request/reply client, the live feed, the
idempotency log, the app and its HTTP server. Tests build it with their own settings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import structlog
import uvicorn

from eventlog.ops import BrokerProbe, readiness
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import declare_topology
from gateway.app import Gateway, create_app
from gateway.calls import Services
from gateway.errors import LastResort
from gateway.idempotency import Idempotency
from gateway.identity import Identity
from gateway.live import LiveFeed
from gateway.settings import Settings
from service_runtime import Readiness, Refresh
from support_rpc import RpcClient

log = structlog.get_logger(__name__)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the process's runtime (service_runtime.serve) handles SIGTERM and SIGINT


@dataclass
class GatewayService:
    settings: Settings
    server: _Server
    serving: asyncio.Task[None]
    parts: tuple[RpcClient, LiveFeed, BrokerProbe, PostgresEventStore]

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        client, live, probe, store = self.parts
        # ready only while it can work: requests and live updates each need their connection
        own = [Readiness("requests", client.ready), Readiness("live updates", live.ready)]
        return readiness(store, probe) + own, []

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        """Stop taking connections, finish what is in flight, then close the rest."""
        self.parts[1].end_streams()
        self.server.should_exit = True
        await self.serving
        for part in self.parts:
            await part.close()
        log.info("gateway.stopped")


async def start(settings: Settings) -> GatewayService:
    await declare_topology(settings.amqp_url, settings.topology())  # issue 14.11
    store = await PostgresEventStore.connect(settings.database_url, settings.database_schema)
    client = await RpcClient(settings.amqp_url).connect()
    live = await LiveFeed(settings.amqp_url, settings.exchange, settings.live_queue_prefix).start()
    gw = Gateway(settings, Identity(settings), Services(client, settings), live)
    keyed = Idempotency(
        create_app(gw),
        store,
        stale_seconds=4 * settings.request_timeout_seconds,
        who=gw.identity.key_of,
    )
    app = LastResort(keyed)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving  # it failed to start: say why
            raise RuntimeError("the gateway's HTTP server stopped before it started")
        await asyncio.sleep(0.01)
    probe = BrokerProbe(settings.amqp_url)
    service = GatewayService(settings, server, serving, (client, live, probe, store))
    log.info("gateway.started", port=service.port, schema=settings.database_schema)
    return service
