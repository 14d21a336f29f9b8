"""Builds routing-svc on its host: the command door, the session events' inbox, the router.
Processes, the embedded demo and tests start it the same way; only the store and the broker
they give differ."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Unpack

from prometheus_client import Gauge

from routing_svc.entrypoints import session_event_handler
from routing_svc.handlers import HANDLERS, Routing
from routing_svc.router import Router
from routing_svc.settings import Settings
from routing_svc.view import RoutingView
from routing_svc.writing import LOOKED_AT_FIRST, SESSION_EVENTS, RoutingLog
from service_runtime.brokers import Server
from service_runtime.host import Given, Host, Hosted

WAITING = Gauge("support_queue_waiting", "Sessions waiting in a WebACD queue", ["queue"])


@dataclass
class RoutingService(Hosted[Settings]):
    routing: Routing
    router: Router
    commands: Server


async def start(
    settings: Settings,
    *,
    idle_seconds: float = 1.0,
    **given: Unpack[Given],
) -> RoutingService:
    """``idle_seconds``: how long the router waits for news before it looks again (offers
    expire, queues open) when nothing is appended."""
    host = await Host.open("routing-svc", settings, **given)
    handlers = RoutingLog(host.store)
    view = RoutingView(named_offer_timeout=timedelta(seconds=settings.named_offer_timeout_seconds))
    router = Router(handlers, view, idle_seconds=idle_seconds)
    await router.catch_up()
    routing = Routing(handlers, view, await host.calls(settings.session_commands))
    await host.consume(
        settings.session_queue,
        SESSION_EVENTS,
        session_event_handler(handlers),
        single_active=True,
        look_first=LOOKED_AT_FIRST,
    )
    commands = await host.serve_table(settings.command_queue, HANDLERS, routing)
    host.relay()
    host.run(router.run(), "router")

    async def queue_lengths() -> None:
        for queue_id, waiting in list(view.waiting.items()):
            WAITING.labels(str(queue_id)).set(len(waiting))

    host.refresh.append(queue_lengths)
    host.started(queue=settings.command_queue)
    return RoutingService(settings, host, routing, router, commands)
