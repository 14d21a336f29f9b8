"""Builds session-svc on its host: the command door, the routing inbox, the console watch.
Processes, the embedded demo and tests start it the same way; only the store and the broker
they give differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Unpack

from prometheus_client import Gauge

from service_runtime.brokers import Server
from service_runtime.host import Given, Host, Hosted
from session_svc.console_watch import ConsoleWatch
from session_svc.entrypoints import ROUTING_EVENTS, routing_event_handler
from session_svc.handlers import HANDLERS
from session_svc.settings import Settings
from session_svc.writing import SessionLog

LIVE_SESSIONS = Gauge("support_live_sessions", "Sessions with a controller now")


@dataclass
class SessionService(Hosted[Settings]):
    handlers: SessionLog
    commands: Server


async def start(settings: Settings, **given: Unpack[Given]) -> SessionService:
    host = await Host.open("session-svc", settings, **given)
    handlers = SessionLog(host.store)
    watch = ConsoleWatch(handlers, every_seconds=settings.console_watch_seconds)
    await host.consume(settings.routing_queue, ROUTING_EVENTS, routing_event_handler(handlers))
    commands = await host.serve_table(settings.command_queue, HANDLERS, handlers)
    host.relay()
    host.run(watch.run(), "console watch")

    async def live_sessions() -> None:
        await handlers.sessions.catch_up()
        LIVE_SESSIONS.set(len(handlers.sessions.live()))

    host.refresh.append(live_sessions)
    host.started(queue=settings.command_queue)
    return SessionService(settings, host, handlers, commands)
