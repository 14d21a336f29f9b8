"""Builds the gateway on its host: identity, the request/reply client, the live feed, the
idempotency log, the app and its HTTP server. Processes, the embedded demo and tests start it
the same way; only the store and the broker they give differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from gateway.app import Gateway, create_app
from gateway.calls import Services
from gateway.errors import LastResort
from gateway.idempotency import Idempotency
from gateway.identity import Identity
from gateway.live import LiveFeed
from gateway.settings import Settings
from service_runtime.host import Given, Host, Served
from service_runtime.http import HttpServer


@dataclass
class _Serving:
    """The HTTP server as the host's door: open streams end (their clients reconnect, to
    another replica), no new connections, what is in flight finishes."""

    server: HttpServer
    live: LiveFeed

    async def stop(self) -> None:
        self.live.end_streams()
        await self.server.stop()


@dataclass
class GatewayService(Served[Settings]):
    server: HttpServer


async def start(settings: Settings, **given: Unpack[Given]) -> GatewayService:
    host = await Host.open("gateway", settings, **given)
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
    server = await HttpServer.start(LastResort(keyed), settings.host, settings.port)
    host.door(_Serving(server, live))
    # ready only while it can work: requests and live updates each need their connection
    host.check("requests", client.ready)
    host.check("live updates", live.ready)
    service = GatewayService(settings, host, server)
    host.started(port=service.port)
    return service
