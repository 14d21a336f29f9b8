"""Typed calls between services (issue 15.4): a command model out, its reply model back, so
no caller reads a reply by key and a renamed field fails the type check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from support_contracts import Command

R = TypeVar("R", bound=BaseModel)

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""A command (its type and fields) to one service, and its reply."""


async def ask(call: Call, command: Command, reply: type[R]) -> R:
    """``command`` to the service behind ``call``; its reply as ``reply`` (a refusal is raised
    as ``support_contracts.refusals.Refusal``, a reply of another shape as pydantic's
    ``ValidationError``: a bug, not the caller's)."""
    answer = await call(command.command_type(), command.model_dump(mode="json"))
    return reply.model_validate(answer)
