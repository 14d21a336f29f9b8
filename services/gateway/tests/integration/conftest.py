"""The gateway in front of session-svc, invite-svc and routing-svc, each on the test's own
schema and queue names, over the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import httpx
import pytest_asyncio

from gateway.bootstrap import GatewayService, start
from gateway.identity import staff_token
from gateway.settings import Settings
from invite_svc.bootstrap import start as start_invite
from invite_svc.settings import Settings as InviteSettings
from routing_svc.bootstrap import start as start_routing
from routing_svc.settings import Settings as RoutingSettings
from session_svc.bootstrap import SessionService
from support_testkit.plugin import RabbitNames, SettingsFor, fresh_schema

JWT_SECRET = "the-gateway-tests-shared-jwt-secret"
PARTICIPANT_SECRET = "the-gateway-tests-participant-secret"
ISSUER, AUDIENCE = "support-center-dev", "support-api"


def bearer(
    user: str, *roles: str, ttl: int = 600, secret: str = JWT_SECRET, **claims: str
) -> dict[str, str]:
    token = staff_token(
        secret,
        user,
        list(roles),
        issuer=claims.get("issuer", ISSUER),
        audience=claims.get("audience", AUDIENCE),
        ttl_seconds=ttl,
        name=claims.get("name"),
    )
    return {"Authorization": f"Bearer {token}"}


def gateway_settings(
    amqp_url: str, database_url: str, schema: str, names: RabbitNames, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "amqp_url": amqp_url,
        "database_url": database_url,
        "database_schema": schema,
        "exchange": names.exchange,
        "queue_prefix": names.prefix,
        "live_queue_prefix": names.queue("gateway-live"),
        "host": "127.0.0.1",
        "port": 0,
        "request_timeout_seconds": 5.0,
        "jwt_secret": JWT_SECRET,
        "participant_token_secret": PARTICIPANT_SECRET,
        "relay_url": "ws://relay.test",
    }
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


@pytest_asyncio.fixture
async def services(
    database_url: str,
    amqp_url: str,
    rabbit_names: RabbitNames,
    settings_for: SettingsFor,
    session_svc: SessionService,
) -> AsyncIterator[None]:
    """invite-svc and routing-svc beside session-svc (the shared fixture)."""
    async with AsyncExitStack() as stack:
        invite_schema = await stack.enter_async_context(fresh_schema(database_url))
        routing_schema = await stack.enter_async_context(fresh_schema(database_url))
        invite = await start_invite(
            settings_for(  # nothing listens on that SMTP port: e-mail waits, own mail works
                InviteSettings, invite_schema, smtp_url="smtp://127.0.0.1:9"
            )
        )
        stack.push_async_callback(invite.stop)
        routing = await start_routing(settings_for(RoutingSettings, routing_schema, pool_size=4))
        stack.push_async_callback(routing.stop)
        yield


@pytest_asyncio.fixture
async def gateway(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, services: None
) -> AsyncIterator[GatewayService]:
    async with fresh_schema(database_url) as schema:
        service = await start(gateway_settings(amqp_url, database_url, schema, rabbit_names))
        yield service
        await service.stop()


@pytest_asyncio.fixture
async def api(gateway: GatewayService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=gateway.url, timeout=20) as client:
        yield client


Headers = Callable[..., dict[str, str]]
