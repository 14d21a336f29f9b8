"""Builds invite-svc from settings: its log, the outbox relay, the command door, the session
events inbox, the e-mail delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from eventlog import Inbox, OutboxRelay
from eventlog.inbox import forgetting
from eventlog.ops import BrokerProbe, outbox_lag, readiness
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher, declare_topology
from invite_svc.delivery import EmailDelivery
from invite_svc.entrypoints import SESSION_EVENTS, command_handler, session_event_handler
from invite_svc.handlers import InviteHandlers, utc_now
from invite_svc.mailer import SmtpMailer
from invite_svc.sessions import SessionDirectory, over_rabbitmq
from invite_svc.settings import Settings
from service_runtime import Readiness, Refresh, Running
from support_rpc import RpcClient, RpcServer

log = structlog.get_logger(__name__)


@dataclass
class InviteService:
    settings: Settings
    store: PostgresEventStore
    handlers: InviteHandlers
    delivery: EmailDelivery
    commands: RpcServer
    running: Running
    checks: tuple[list[Readiness], list[Refresh]]

    def ops(self) -> tuple[list[Readiness], list[Refresh]]:
        return self.checks

    async def stop(self) -> None:
        await self.running.stop()
        log.info("invite_svc.stopped")


async def start(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> InviteService:
    await declare_topology(settings.amqp_url, settings.topology())  # issue 14.11
    store = await PostgresEventStore.connect(
        settings.database_url, settings.database_schema, max_size=settings.pool_size
    )
    client = await RpcClient(settings.amqp_url).connect()
    sessions = SessionDirectory(over_rabbitmq(client, settings.session_queue))
    handlers = InviteHandlers(store, sessions, site_url=settings.support_site_url, clock=clock)
    mailer = SmtpMailer(settings.smtp_url, settings.mail_from, ca_file=settings.smtp_ca_file)
    delivery = EmailDelivery(handlers, mailer, every_seconds=settings.delivery_seconds)
    publisher = RabbitPublisher(settings.amqp_url, settings.exchange)
    inbox = Inbox(store, "invite-svc", session_event_handler(handlers))
    session_events = RabbitEventConsumer(
        settings.amqp_url,
        settings.session_events_queue,
        SESSION_EVENTS,
        inbox,
        exchange=settings.exchange,
    )
    await session_events.start()
    commands = await RpcServer(
        settings.amqp_url, settings.command_queue, command_handler(handlers)
    ).start()
    probe = BrokerProbe(settings.amqp_url)
    running = Running(doors=[commands, session_events], resources=[client, publisher, probe, store])
    running.tasks.append(asyncio.create_task(forgetting(store, keep=settings.inbox_keep)))
    running.tasks += [
        asyncio.create_task(OutboxRelay(store, publisher).run()),
        asyncio.create_task(delivery.run()),
    ]
    checks = (readiness(store, probe, session_events, commands), [outbox_lag(store)])
    service = InviteService(settings, store, handlers, delivery, commands, running, checks)
    log.info("invite_svc.started", queue=settings.command_queue, schema=settings.database_schema)
    return service
