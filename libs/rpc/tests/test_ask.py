"""Issue 15.4: a typed call sends the command model as the wire carries it and reads the reply
as its model; a reply of another shape is an error, not a dict read by key."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from support_contracts.replies import SiteReply
from support_contracts.session import GetSiteSettings, SiteSettings
from support_rpc import ask


async def test_the_command_goes_as_the_wire_carries_it_and_the_reply_comes_back_typed() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    settings = SiteSettings(
        multi_session_allowed=True,
        max_sessions_per_csr=3,
        multiple_customers_allowed=True,
        max_customers_per_session=5,
        console_grace_seconds=60,
        invitation_ttl_seconds=3600,
    )
    site = settings.model_dump(mode="json")

    async def call(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        sent.append((command_type, command))
        return {"site": site}

    command = GetSiteSettings.new(actor_id="relay")
    reply = await ask(call, command, SiteReply)
    assert reply.site == settings
    assert sent == [("GetSiteSettings", command.model_dump(mode="json"))]


async def test_a_reply_of_another_shape_is_an_error() -> None:
    async def call(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        return {"settings": {}}

    command = GetSiteSettings(command_id=uuid4(), correlation_id=uuid4())
    with pytest.raises(ValidationError):
        await ask(call, command, SiteReply)
