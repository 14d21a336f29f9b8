"""The gateway's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from pydantic import Field

from gateway.tokens import DEV_AUDIENCE, DEV_ISSUER
from service_runtime.settings import ServiceSettings
from support_contracts.topology import Topology


class Settings(ServiceSettings):
    database_schema: str = "gateway"
    QUEUES: ClassVar[dict[str, Callable[[Topology], str]]] = {
        "session_commands": lambda t: t.command_queue("session-svc"),
        "invite_commands": lambda t: t.command_queue("invite-svc"),
        "routing_commands": lambda t: t.command_queue("routing-svc"),
    }
    session_commands: str
    invite_commands: str
    routing_commands: str
    live_queue_prefix: str = "gateway.live"
    host: str = "0.0.0.0"
    port: int = 8080
    request_timeout_seconds: float = Field(default=5.0, gt=0)

    # staff identity: a JWKS (URL or file) for a real identity provider, or a shared secret
    jwt_secret: str | None = Field(default=None, min_length=32)
    jwks_url: str | None = None
    jwks_file: Path | None = None
    jwt_issuer: str = DEV_ISSUER
    jwt_audience: str = DEV_AUDIENCE
    # a development setup's sign-in page mints tokens with jwt_secret (``make run``); never on
    # in production
    dev_sign_in: bool = False

    participant_token_secret: str = Field(min_length=32)  # shared with media-relay
    participant_token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    relay_url: str = "ws://localhost:8765"  # the relay as clients reach it
