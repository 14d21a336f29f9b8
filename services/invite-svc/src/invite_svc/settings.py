"""invite-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    database_schema: str = "invite_svc"
    command_queue: str = "invite-svc.commands"
    session_queue: str = "session-svc.commands"
    session_events_queue: str = "invite-svc.session-events"
    smtp_url: str = "smtp://127.0.0.1:1025"
    smtp_ca_file: str | None = None
    mail_from: str = "Support <support@example.com>"
    support_site_url: str = "https://support.example.com"
    delivery_seconds: float = 1.0
