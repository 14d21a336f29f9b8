"""session-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from service_runtime.settings import ServiceSettings
from support_contracts.topology import Topology


class Settings(ServiceSettings):
    database_schema: str = "session_svc"
    QUEUES: ClassVar[dict[str, Callable[[Topology], str]]] = {
        "command_queue": lambda t: t.command_queue("session-svc"),
        "routing_queue": lambda t: t.subscription("session-svc").queue,
    }
    command_queue: str
    routing_queue: str
    console_watch_seconds: float = 5.0
