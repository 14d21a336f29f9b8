"""A request whose connection breaks as it is published fails with ``RpcUnavailable`` once,
and leaves no failed future behind unread (asyncio logs those as "Future exception was never
retrieved": the fault suite's broker restart showed it in the gateway's log)."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from support_rpc import RpcClient
from support_rpc.client import RpcUnavailable


class LostWhilePublishing:
    """aiormq's channel as it is when the connection breaks under a publish: the connection's
    close callbacks run (the client fails what is in flight), then the publish raises."""

    def __init__(self, client: RpcClient) -> None:
        self._client = client

    async def get_underlay_channel(self) -> LostWhilePublishing:
        return self

    async def basic_publish(self, *args: Any, **kwargs: Any) -> None:
        self._client._on_lost()
        raise ConnectionResetError("the broker went away")


async def test_a_request_lost_as_it_is_published_leaves_no_failure_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = RpcClient("amqp://nowhere")
    channel = LostWhilePublishing(client)

    async def opened() -> LostWhilePublishing:
        return channel

    monkeypatch.setattr(client, "_open", opened)
    client._declared.add("q")
    unread: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: unread.append(context))
    try:
        with pytest.raises(RpcUnavailable):
            await client._exchange("q", b"{}", 1.0)
        gc.collect()
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(None)
    assert [c["message"] for c in unread] == []
