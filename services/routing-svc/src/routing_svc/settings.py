"""routing-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    database_schema: str = "routing_svc"
    command_queue: str = "routing-svc.commands"
    session_queue: str = "routing-svc.session-events"
    session_commands: str = "session-svc.commands"
    named_offer_timeout_seconds: float = 60.0
