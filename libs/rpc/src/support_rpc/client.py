"""The caller's side: one reply queue of its own, a future per request keyed by correlation
id, so any number of requests are in flight at once (FastStream 0.7's ``broker.request()``
holds one lock for the whole round trip: one request at a time per broker object)."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import uuid4

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from pamqp.commands import Basic

from support_rpc import tracing
from support_rpc.server import declare_command_queue


class RpcTimeout(Exception):
    """The service did not answer in time (the gateway's 503)."""


class RemoteError(Exception):
    """The service refused or failed; ``status``, ``code`` and ``message`` say why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class RpcClient:
    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: AbstractRobustConnection | None = None
        self._channel: AbstractChannel | None = None
        self._reply_to = ""
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._declared: set[str] = set()

    async def connect(self) -> RpcClient:
        self._connection = await aio_pika.connect_robust(self._url)
        self._channel = await self._connection.channel()
        replies = await self._channel.declare_queue(exclusive=True, auto_delete=True)
        await replies.consume(self._on_reply, no_ack=True)
        self._reply_to = replies.name
        return self

    async def _on_reply(self, message: AbstractIncomingMessage) -> None:
        future = self._pending.pop(message.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(json.loads(message.body))

    async def call(
        self,
        queue: str,
        command_type: str,
        command: dict[str, Any],
        *,
        within_seconds: float = 5.0,
    ) -> dict[str, Any]:
        """Send one command and wait for its reply: the result, or RemoteError / RpcTimeout."""
        if self._channel is None:
            await self.connect()
        assert self._channel is not None
        if queue not in self._declared:  # a request made while the service starts waits for it
            await declare_command_queue(self._channel, queue)
            self._declared.add(queue)
        correlation_id = uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = future
        properties = Basic.Properties(
            content_type="application/json",
            correlation_id=correlation_id,
            reply_to=self._reply_to,
            expiration=str(int(within_seconds * 1000)),
            headers=dict(tracing.outgoing()) or None,  # the caller's trace goes with it
        )
        body = json.dumps({"type": command_type, "command": command}).encode()
        try:
            channel = await self._channel.get_underlay_channel()  # aiormq's: no Message object
            await channel.basic_publish(body, routing_key=queue, properties=properties)
            reply = await asyncio.wait_for(future, within_seconds)
        except TimeoutError:
            raise RpcTimeout(
                f"{queue} did not answer {command_type} in {within_seconds} s"
            ) from None
        finally:
            self._pending.pop(correlation_id, None)
        if reply.get("ok"):
            result: dict[str, Any] = reply["result"]
            return result
        error = reply["error"]
        raise RemoteError(int(error["status"]), str(error["code"]), str(error["message"]))

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
