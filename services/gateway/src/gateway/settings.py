"""The gateway's configuration, from the environment only; nothing connects at import."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator

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
    # the consoles' sign-in with the identity provider (issue 16.2): OpenID Connect's
    # authorization code flow with PKCE, the consoles a public client of the provider whose
    # issuer is jwt_issuer (its discovery document at <issuer>/.well-known/openid-configuration)
    oidc_client_id: str | None = Field(default=None, min_length=1)
    oidc_scope: str = "openid profile"
    # more parameters of the authorization request, as the provider wants them, to get an
    # access token for jwt_audience: {"audience": ...} (Auth0), {"resource": ...} (RFC 8707)
    oidc_authorize_parameters: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _provider_keys(self) -> Settings:
        if self.oidc_client_id and not (self.jwks_url or self.jwks_file):
            raise ValueError(
                "OIDC_CLIENT_ID needs JWKS_URL (or JWKS_FILE): the identity provider's keys"
                " check the tokens its sign-in gives"
            )
        return self

    participant_token_secret: str = Field(min_length=32)  # shared with media-relay
    participant_token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    relay_url: str = "ws://localhost:8765"  # the relay as clients reach it
