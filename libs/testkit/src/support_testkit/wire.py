"""Commands to a service as the wire carries them: a command type and its fields as JSON, with
ids of their own, over a ``support_rpc`` client (the tests that speak to a service the way a
caller in another language would)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

from support_rpc.client import Caller

WireCall = Callable[..., Awaitable[dict[str, Any]]]


def command_ids(actor: str | None = None) -> dict[str, Any]:
    """A new command's ids, and who asks."""
    return {"command_id": str(uuid4()), "correlation_id": str(uuid4()), "actor_id": actor}


def wire_call(
    client: Caller, queue: str, *, actor: str | None = None, within_seconds: float = 15.0
) -> WireCall:
    """``call(command_type, **fields)``: the command to ``queue`` as ``actor``, its reply."""

    async def call(command_type: str, **fields: Any) -> dict[str, Any]:
        command = {**command_ids(actor), **fields}
        return await client.call(queue, command_type, command, within_seconds=within_seconds)

    return call
