"""Builds the gateway on its host: identity, the request/reply client, the live feed, the
idempotency log, the app and its HTTP server. Processes, the embedded demo and tests start it
the same way; only the store and the broker they give differ."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import uvicorn

from eventlog import EventStore
from gateway.app import Gateway, create_app
from gateway.calls import Services
from gateway.errors import LastResort
from gateway.idempotency import Idempotency
from gateway.identity import Identity
from gateway.live import LiveFeed
from gateway.settings import Settings
from service_runtime.brokers import Broker
from service_runtime.host import Host, Hosted


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the process's runtime (service_runtime.serve) handles SIGTERM and SIGINT


@dataclass
class _Serving:
    """The HTTP server as the host's door: open streams end (their clients reconnect, to
    another replica), no new connections, what is in flight finishes."""

    server: _Server
    serving: asyncio.Task[None]
    live: LiveFeed

    async def stop(self) -> None:
        self.live.end_streams()
        self.server.should_exit = True
        await self.serving


@dataclass
class GatewayService(Hosted):
    settings: Settings
    host: Host
    server: _Server

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def start(
    settings: Settings, *, store: EventStore | None = None, broker: Broker | None = None
) -> GatewayService:
    host = await Host.open("gateway", settings, store=store, broker=broker)
    client = await host.client()
    live = await LiveFeed(host.broker, settings.live_queue_prefix).start()
    host.uses(live)
    gw = Gateway(settings, Identity(settings), Services(client, settings), live)
    keyed = Idempotency(
        create_app(gw),
        host.store,
        stale_seconds=4 * settings.request_timeout_seconds,
        who=gw.identity.key_of,
    )
    config = uvicorn.Config(
        LastResort(keyed),
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
    host.door(_Serving(server, serving, live))
    # ready only while it can work: requests and live updates each need their connection
    host.check("requests", client.ready)
    host.check("live updates", live.ready)
    service = GatewayService(settings, host, server)
    host.started(port=service.port)
    return service
