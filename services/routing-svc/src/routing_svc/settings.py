"""routing-svc's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from service_runtime.settings import ServiceSettings
from support_contracts.topology import Topology


class Settings(ServiceSettings):
    database_schema: str = "routing_svc"
    QUEUES: ClassVar[dict[str, Callable[[Topology], str]]] = {
        "command_queue": lambda t: t.command_queue("routing-svc"),
        "session_queue": lambda t: t.subscription("routing-svc").queue,
        "session_commands": lambda t: t.command_queue("session-svc"),
    }
    command_queue: str
    session_queue: str
    session_commands: str
    named_offer_timeout_seconds: float = 60.0
