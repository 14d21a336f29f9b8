"""The services behind the gateway, over request/reply with a timeout: one reply queue of the
gateway's own with many requests in flight (``support_rpc.RpcClient``), not one at a time."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from gateway.identity import Caller
from gateway.settings import Settings
from support_rpc import RpcClient


class Services:
    def __init__(self, client: RpcClient, settings: Settings) -> None:
        self._client, self._timeout = client, settings.request_timeout_seconds
        self._queues = {
            "session": settings.session_commands,
            "invite": settings.invite_commands,
            "routing": settings.routing_commands,
        }

    async def __call__(
        self,
        service: str,
        command_type: str,
        caller: Caller | None,
        correlation_id: UUID | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A command or query to ``service`` on behalf of ``caller``: its reply, or the
        service's refusal (RemoteError), or RpcTimeout when it did not answer in time."""
        command = {
            "command_id": str(uuid4()),
            "correlation_id": str(correlation_id or uuid4()),
            "actor_id": caller.id if caller else None,
            **fields,
        }
        return await self._client.call(
            self._queues[service], command_type, command, within_seconds=self._timeout
        )
