"""Builds invite-svc on its host: the command door, the session events' inbox, the e-mail
delivery. Processes, the embedded demo and tests start it the same way; only the store, the
broker and the mailer they give differ."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Unpack

from eventlog import utc_now
from invite_svc.delivery import EmailDelivery
from invite_svc.entrypoints import LOOKED_AT_FIRST, SESSION_EVENTS, session_event_handler
from invite_svc.handlers import HANDLERS, InviteHandlers
from invite_svc.mailer import Mailer, SmtpMailer
from invite_svc.sessions import SessionDirectory
from invite_svc.settings import Settings
from service_runtime.brokers import Server
from service_runtime.host import Given, Host, Hosted


@dataclass
class InviteService(Hosted[Settings]):
    handlers: InviteHandlers
    delivery: EmailDelivery
    commands: Server


async def start(
    settings: Settings,
    *,
    mailer: Mailer | None = None,
    clock: Callable[[], datetime] = utc_now,
    **given: Unpack[Given],
) -> InviteService:
    """``mailer``: where system e-mail goes (the SMTP server of ``SMTP_URL`` unless given)."""
    host = await Host.open("invite-svc", settings, **given)
    sessions = SessionDirectory(await host.calls(settings.session_queue))
    handlers = InviteHandlers(host.store, sessions, site_url=settings.support_site_url, clock=clock)
    if mailer is None:
        mailer = SmtpMailer(settings.smtp_url, settings.mail_from, ca_file=settings.smtp_ca_file)
    delivery = EmailDelivery(handlers, mailer, every_seconds=settings.delivery_seconds)
    await host.consume(
        settings.session_events_queue,
        SESSION_EVENTS,
        session_event_handler(handlers),
        look_first=LOOKED_AT_FIRST,
    )
    commands = await host.serve_table(settings.command_queue, HANDLERS, handlers)
    host.relay()
    host.run(delivery.run(), "e-mail delivery")
    host.started(queue=settings.command_queue)
    return InviteService(settings, host, handlers, delivery, commands)
