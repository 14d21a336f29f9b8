"""session-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from service_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    database_schema: str = "session_svc"
    command_queue: str = "session-svc.commands"
    routing_queue: str = "session-svc.routing-events"
    console_watch_seconds: float = 5.0
