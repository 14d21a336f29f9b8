"""A service's command door: a request's type and fields parsed into the contract's command,
handed to the service's table, its reply model put on the wire, and every refusal answered as
an error reply with its status (what the gateway passes on). One door for every service."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import structlog
from pydantic import BaseModel

from support_contracts import COMMANDS, Command, ContractViolation
from support_contracts.refusals import Refusal
from support_rpc.server import Handler

log = structlog.get_logger(__name__)

S = TypeVar("S")
Execute = Callable[[Command], Awaitable[BaseModel]]
"""A command to its reply model (``support_contracts.replies``)."""


def command_door(
    service: str,
    takes: Mapping[type[Command], object],
    execute: Execute,
    *,
    conflicts: tuple[type[Exception], ...] = (),
    outages: Callable[[BaseException], bool] = lambda _: False,
) -> Handler:
    """``takes``: the command types the service answers; ``conflicts``: errors that mean the
    state changed under the command after its retries (answered 409, try again); ``outages``
    tells the errors of infrastructure that did not answer (answered 503, try again: the
    outcome is not known, and the services apply a command once, so a retry is safe)."""

    async def handle(command_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            kind = COMMANDS.get(command_type)
            cmd = kind.parse(payload)
        except ContractViolation as error:
            raise Refusal(422, "invalid_command", str(error)) from error
        if kind not in takes:
            raise Refusal(400, "unknown_command", f"{service} does not take {command_type}")
        ids = {"command": command_type, "correlation_id": str(cmd.correlation_id)}
        session_id = getattr(cmd, "session_id", None)
        try:
            with structlog.contextvars.bound_contextvars(**ids, session_id=str(session_id or "")):
                reply = await execute(cmd)
        except Refusal:  # the service's own, or another service's answer: passed on as it is
            raise
        except conflicts as conflict:
            raise Refusal(409, "version_conflict", f"{conflict}; try again") from conflict
        except Exception as error:
            if outages(error):
                log.warning("rpc.outage", service=service, command=command_type, error=repr(error))
                unreachable = f"{service} cannot reach its database or the broker; try again"
                raise Refusal(503, "unavailable", unreachable) from error
            raise
        return reply.model_dump(mode="json")

    return handle


def table_door(
    service: str,
    table: Mapping[type[Command], Callable[[S, Any], Awaitable[BaseModel]]],
    state: S,
    *,
    conflicts: tuple[type[Exception], ...] = (),
    outages: Callable[[BaseException], bool] = lambda _: False,
) -> Handler:
    """The door of a service's handler table (``handlers.HANDLERS``): each command to its
    function, called with the service's ``state``."""

    async def execute(cmd: Command) -> BaseModel:
        return await table[type(cmd)](state, cmd)

    return command_door(service, table, execute, conflicts=conflicts, outages=outages)
