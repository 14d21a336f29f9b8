"""Issue 15.4: a typed call sends the command model as the wire carries it and reads the reply
as its model; a reply of another shape is an error, not a dict read by key."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from support_contracts.replies import StatusReasonsReply
from support_contracts.routing import GetStatusReasons
from support_rpc import ask


async def test_the_command_goes_as_the_wire_carries_it_and_the_reply_comes_back_typed() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    async def call(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        sent.append((command_type, command))
        return {"reasons": ["lunch", "training"]}

    command = GetStatusReasons.new(actor_id="console")
    reply = await ask(call, command, StatusReasonsReply)
    assert reply == StatusReasonsReply(reasons=["lunch", "training"])
    assert sent == [("GetStatusReasons", command.model_dump(mode="json"))]


async def test_a_reply_of_another_shape_is_an_error() -> None:
    async def call(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        return {"status_reasons": []}

    with pytest.raises(ValidationError):
        await ask(call, GetStatusReasons.new(), StatusReasonsReply)
