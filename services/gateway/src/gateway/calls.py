"""The services behind the gateway (``Services``): request/reply with a timeout, over the
broker the gateway was started with. Over RabbitMQ, one reply queue of the gateway's own with
many requests in flight (``support_rpc.RpcClient``), not one at a time; in one process (the
embedded demo), the same requests and replies without a broker between.

Every command carries the request's correlation id (``X-Correlation-Id``, or a new one), so
the events it causes, in every service, can be found together."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Protocol, TypeVar
from uuid import UUID, uuid4, uuid5

from pydantic import BaseModel

from gateway.identity import Caller
from gateway.settings import Settings
from service_runtime.brokers import Client
from support_contracts import Command, ContractViolation
from support_contracts.refusals import Refusal

CORRELATION: ContextVar[UUID | None] = ContextVar("correlation", default=None)
REQUEST_KEY: ContextVar[RequestKey | None] = ContextVar("request_key", default=None)


class RequestKey:
    """A request with an ``Idempotency-Key``: the ids of the commands it sends derive from the
    key, so a request run again (its first run's gateway died) sends the same commands, and
    the services, which apply a command once, do nothing twice."""

    def __init__(self, key: UUID) -> None:
        self.key = key
        self._sent: dict[str, int] = {}

    def command_id(self, command_type: str) -> UUID:
        n = self._sent[command_type] = self._sent.get(command_type, 0) + 1
        return uuid5(self.key, f"{command_type}#{n}")


R = TypeVar("R", bound=BaseModel)
C = TypeVar("C", bound=Command)


class Calls(Protocol):
    async def __call__(
        self, command: type[Command], reply: type[R], caller: Caller | None, **fields: Any
    ) -> R:
        """A command or query, of ``command``'s type with ``fields``, to its service on behalf
        of ``caller``: its reply as ``reply``, or the service's refusal (Refusal), or
        RpcTimeout when it did not answer in time."""
        ...


def stamped(caller: Caller | None, kind: type[C], fields: dict[str, Any]) -> C:
    """The command with its ids and actor; fields its contract refuses are the caller's 422,
    as the service's door would answer them."""
    key = REQUEST_KEY.get()
    try:
        return kind.parse(
            {
                "command_id": key.command_id(kind.command_type()) if key else uuid4(),
                "correlation_id": CORRELATION.get() or uuid4(),
                "actor_id": caller.id if caller else None,
                **fields,
            }
        )
    except ContractViolation as error:
        raise Refusal(422, "invalid_command", str(error)) from error


class Services:
    def __init__(self, client: Client, settings: Settings) -> None:
        self._client, self._timeout = client, settings.request_timeout_seconds
        self._queues = {
            "session": settings.session_commands,
            "invite": settings.invite_commands,
            "routing": settings.routing_commands,
        }

    async def __call__(
        self, command: type[Command], reply: type[R], caller: Caller | None, **fields: Any
    ) -> R:
        sent = stamped(caller, command, fields)
        answer = await self._client.call(
            self._queues[command.context],
            command.command_type(),
            sent.model_dump(mode="json"),
            within_seconds=self._timeout,
        )
        return reply.model_validate(answer)
