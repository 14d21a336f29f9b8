"""The services behind the gateway. Over RabbitMQ (``Services``): request/reply with a timeout,
one reply queue of the gateway's own with many requests in flight (``support_rpc.RpcClient``),
not one at a time. In one process (``Doors``, the embedded demo): the services' command doors
called directly, their refusals the same errors.

Every command carries the request's correlation id (``X-Correlation-Id``, or a new one), so
the events it causes, in every service, can be found together."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any, Protocol
from uuid import UUID, uuid4

from gateway.identity import Caller
from gateway.settings import Settings
from support_rpc import RemoteError, RpcClient
from support_rpc.server import Failure, Handler

CORRELATION: ContextVar[UUID | None] = ContextVar("correlation", default=None)


class Calls(Protocol):
    async def __call__(
        self, service: str, command_type: str, caller: Caller | None, **fields: Any
    ) -> dict[str, Any]:
        """A command or query to ``service`` on behalf of ``caller``: its reply, or the
        service's refusal (RemoteError), or RpcTimeout when it did not answer in time."""
        ...


def command(caller: Caller | None, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "command_id": str(uuid4()),
        "correlation_id": str(CORRELATION.get() or uuid4()),
        "actor_id": caller.id if caller else None,
        **fields,
    }


class Services:
    def __init__(self, client: RpcClient, settings: Settings) -> None:
        self._client, self._timeout = client, settings.request_timeout_seconds
        self._queues = {
            "session": settings.session_commands,
            "invite": settings.invite_commands,
            "routing": settings.routing_commands,
        }

    async def __call__(
        self, service: str, command_type: str, caller: Caller | None, **fields: Any
    ) -> dict[str, Any]:
        return await self._client.call(
            self._queues[service],
            command_type,
            command(caller, fields),
            within_seconds=self._timeout,
        )


class Doors:
    def __init__(self, doors: Mapping[str, Handler]) -> None:
        self._doors = doors

    async def __call__(
        self, service: str, command_type: str, caller: Caller | None, **fields: Any
    ) -> dict[str, Any]:
        try:
            return await self._doors[service](command_type, command(caller, fields))
        except Failure as refused:
            raise RemoteError(refused.status, refused.code, refused.message) from refused
