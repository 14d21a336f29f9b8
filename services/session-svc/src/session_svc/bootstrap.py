"""Builds session-svc from settings: its log, the outbox relay, the command door, the routing
inbox, the console watch. Tests build it with their own settings and names."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import structlog

from eventlog import Inbox, OutboxRelay
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher
from session_svc.console_watch import ConsoleWatch
from session_svc.entrypoints import ROUTING_EVENTS, command_handler, routing_event_handler
from session_svc.handlers import SessionHandlers
from session_svc.settings import Settings
from support_rpc import RpcServer

log = structlog.get_logger(__name__)


@dataclass
class SessionService:
    settings: Settings
    store: PostgresEventStore
    handlers: SessionHandlers
    publisher: RabbitPublisher
    commands: RpcServer
    routing_events: RabbitEventConsumer
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    stopped: bool = False

    async def stop(self) -> None:
        """Stop taking commands and events first, then the background work, then the log.
        Stopping again does nothing."""
        if self.stopped:
            return
        self.stopped = True
        await self.commands.stop()
        await self.routing_events.stop()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.publisher.close()
        await self.store.close()
        log.info("session_svc.stopped")


async def start(settings: Settings) -> SessionService:
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
    service = SessionService(settings, store, handlers, publisher, commands, routing_events)
    service.tasks += [asyncio.create_task(relay.run()), asyncio.create_task(watch.run())]
    log.info("session_svc.started", queue=settings.command_queue, schema=settings.database_schema)
    return service
