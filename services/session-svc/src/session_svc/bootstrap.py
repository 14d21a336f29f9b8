"""Builds session-svc from settings: its log, the outbox relay, the command door, the routing
inbox, the console watch. Tests build it with their own settings and names."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog
from prometheus_client import Gauge

from eventlog import Inbox, OutboxRelay
from eventlog.inbox import forgetting
from eventlog.ops import BrokerProbe, outbox_lag, readiness
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher, declare_topology
from service_runtime import Readiness, Refresh, Running
from session_svc.console_watch import ConsoleWatch
from session_svc.entrypoints import ROUTING_EVENTS, command_handler, routing_event_handler
from session_svc.handlers import SessionHandlers
from session_svc.settings import Settings
from support_rpc import RpcServer

log = structlog.get_logger(__name__)

LIVE_SESSIONS = Gauge("support_live_sessions", "Sessions with a controller now")


@dataclass
class SessionService:
    settings: Settings
    store: PostgresEventStore
    handlers: SessionHandlers
    commands: RpcServer
    running: Running
    checks: tuple[list[Readiness], list[Refresh]]

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        return self.checks

    async def stop(self) -> None:
        await self.running.stop()
        log.info("session_svc.stopped")


async def start(settings: Settings) -> SessionService:
    await declare_topology(settings.amqp_url, settings.topology())  # issue 14.11
    store = await PostgresEventStore.connect(
        settings.database_url, settings.database_schema, max_size=settings.pool_size
    )
    handlers = SessionHandlers(store)
    publisher = RabbitPublisher(settings.amqp_url, settings.exchange)
    relay = OutboxRelay(store, publisher)
    watch = ConsoleWatch(handlers, every_seconds=settings.console_watch_seconds)
    inbox = Inbox(store, "session-svc", routing_event_handler(handlers))
    routing_events = RabbitEventConsumer(
        settings.amqp_url, settings.routing_queue, ROUTING_EVENTS, inbox, exchange=settings.exchange
    )
    await routing_events.start()
    commands = await RpcServer(
        settings.amqp_url, settings.command_queue, command_handler(handlers)
    ).start()
    probe = BrokerProbe(settings.amqp_url)
    running = Running(doors=[commands, routing_events], resources=[publisher, probe, store])
    running.tasks.append(asyncio.create_task(forgetting(store, keep=settings.inbox_keep)))
    running.tasks += [asyncio.create_task(relay.run()), asyncio.create_task(watch.run())]

    async def live_sessions() -> None:
        await watch.catch_up()
        LIVE_SESSIONS.set(len(watch.last_seen))

    checks = (readiness(store, probe, routing_events, commands), [outbox_lag(store), live_sessions])
    service = SessionService(settings, store, handlers, commands, running, checks)
    log.info("session_svc.started", queue=settings.command_queue, schema=settings.database_schema)
    return service
