"""invite-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from service_runtime.settings import ServiceSettings
from support_contracts.topology import Topology


class Settings(ServiceSettings):
    database_schema: str = "invite_svc"
    QUEUES: ClassVar[dict[str, Callable[[Topology], str]]] = {
        "command_queue": lambda t: t.command_queue("invite-svc"),
        "session_queue": lambda t: t.command_queue("session-svc"),
        "session_events_queue": lambda t: t.subscription("invite-svc").queue,
    }
    command_queue: str
    session_queue: str
    session_events_queue: str
    smtp_url: str = "smtp://127.0.0.1:1025"
    smtp_ca_file: str | None = None
    mail_from: str = "Support <support@example.com>"
    support_site_url: str = "https://support.example.com"
    delivery_seconds: float = 1.0
