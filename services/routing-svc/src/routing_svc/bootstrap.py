"""Builds routing-svc from settings: its log, the outbox relay, the command door, the session
events' inbox, the router. Tests build it with their own settings and names."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from prometheus_client import Gauge

from eventlog import Inbox, OutboxRelay
from eventlog.inbox import forgetting
from eventlog.ops import BrokerProbe, outbox_lag, readiness
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher, declare_topology
from routing_svc.entrypoints import command_handler, session_event_handler
from routing_svc.handlers import SESSION_EVENTS, RoutingHandlers
from routing_svc.router import Router
from routing_svc.service import Routing
from routing_svc.settings import Settings
from routing_svc.view import RoutingView
from service_runtime import Readiness, Refresh, Running
from support_rpc import RpcClient, RpcServer

log = structlog.get_logger(__name__)

WAITING = Gauge("support_queue_waiting", "Sessions waiting in a WebACD queue", ["queue"])


@dataclass
class RoutingService:
    settings: Settings
    store: PostgresEventStore
    routing: Routing
    router: Router
    commands: RpcServer
    running: Running
    checks: tuple[list[Readiness], list[Refresh]]

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        return self.checks

    async def stop(self) -> None:
        await self.running.stop()
        log.info("routing_svc.stopped")


async def start(settings: Settings) -> RoutingService:
    await declare_topology(settings.amqp_url, settings.topology())  # issue 14.11
    store = await PostgresEventStore.connect(
        settings.database_url, settings.database_schema, max_size=settings.pool_size
    )
    handlers = RoutingHandlers(store)
    view = RoutingView(named_offer_timeout=timedelta(seconds=settings.named_offer_timeout_seconds))
    router = Router(handlers, view)
    await router.catch_up()
    client = await RpcClient(settings.amqp_url).connect()

    async def sessions(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        return await client.call(settings.session_commands, command_type, command)

    routing = Routing(handlers, view, sessions)
    publisher = RabbitPublisher(settings.amqp_url, settings.exchange)
    relay = OutboxRelay(store, publisher)
    inbox = Inbox(store, "routing-svc", session_event_handler(handlers))
    session_events = RabbitEventConsumer(
        settings.amqp_url,
        settings.session_queue,
        SESSION_EVENTS,
        inbox,
        exchange=settings.exchange,
        single_active=True,
    )
    await session_events.start()
    commands = await RpcServer(
        settings.amqp_url, settings.command_queue, command_handler(routing)
    ).start()
    probe = BrokerProbe(settings.amqp_url)
    running = Running(doors=[commands, session_events], resources=[client, publisher, probe, store])
    running.tasks.append(asyncio.create_task(forgetting(store, keep=settings.inbox_keep)))
    running.tasks += [asyncio.create_task(relay.run()), asyncio.create_task(router.run())]
    log.info("routing_svc.started", queue=settings.command_queue, schema=settings.database_schema)

    async def queue_lengths() -> None:
        for queue_id, waiting in list(view.waiting.items()):
            WAITING.labels(str(queue_id)).set(len(waiting))

    checks = (readiness(store, probe, session_events, commands), [outbox_lag(store), queue_lengths])
    return RoutingService(settings, store, routing, router, commands, running, checks)
