"""The caller's side: one reply queue of its own, a future per request keyed by correlation
id, so any number of requests are in flight at once (FastStream 0.7's ``broker.request()``
holds one lock for the whole round trip: one request at a time per broker object)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from abc import ABC, abstractmethod
from typing import Any
from uuid import uuid4

from aio_pika.abc import AbstractChannel, AbstractRobustChannel
from aiormq.abc import DeliveredMessage
from pamqp.commands import Basic

from support_contracts.refusals import Refusal
from support_rpc import tracing
from support_rpc.amqp import Amqp, Connect
from support_rpc.server import declare_command_queue


class RpcTimeout(Exception):
    """The service did not answer in time (the gateway's 503)."""


class RpcUnavailable(RpcTimeout):
    """The broker did not answer, or the connection to it broke under the request: nothing
    is known of the request's outcome (the gateway's 503, to retry)."""


def request_body(command_type: str, command: dict[str, Any]) -> bytes:
    return json.dumps({"type": command_type, "command": command}).encode()


def outcome(reply: dict[str, Any]) -> dict[str, Any]:
    """A reply's result, or its refusal raised as :class:`Refusal`."""
    if reply.get("ok"):
        result: dict[str, Any] = reply["result"]
        return result
    raise Refusal.from_reply(reply["error"])


class Caller(ABC):
    """What sends a command to a service's queue and waits for its reply: over RabbitMQ
    (:class:`RpcClient`) or in one process (``support_rpc.memory``), on the same wire format."""

    async def call(
        self,
        queue: str,
        command_type: str,
        command: dict[str, Any],
        *,
        within_seconds: float = 5.0,
    ) -> dict[str, Any]:
        """Send one command and wait for its reply: the result, or Refusal, RpcTimeout or
        RpcUnavailable, all within ``within_seconds`` (connecting and publishing included)."""
        body = request_body(command_type, command)
        try:
            async with asyncio.timeout(within_seconds):
                reply = await self._exchange(queue, body, within_seconds)
        except TimeoutError:
            if not self.connected:
                raise RpcUnavailable(f"the broker did not answer in {within_seconds} s") from None
            raise RpcTimeout(
                f"{queue} did not answer {command_type} in {within_seconds} s"
            ) from None
        return outcome(reply)

    @abstractmethod
    async def _exchange(self, queue: str, body: bytes, within_seconds: float) -> dict[str, Any]:
        """The request's body to ``queue``; its reply, decoded."""

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    @abstractmethod
    async def connect(self) -> Caller: ...

    @abstractmethod
    async def ready(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...


class RpcClient(Caller):
    """Its channel and reply queue on a connection of its own (from a url) or the process's
    shared one, opened when first needed. The connection comes back by itself after it broke
    (a broker restart), and the channel and reply queue with it; the reply consumer is started
    again on the next request. A request made while the broker is away fails within its timeout
    with ``RpcUnavailable``; requests in flight when the connection breaks fail at once, not at
    their timeout."""

    def __init__(self, source: str | Connect) -> None:
        self._amqp = Amqp(source)
        self._channel: AbstractRobustChannel | None = None
        self._consuming = False
        self._reply_to = ""
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._declared: set[str] = set()
        self._connecting = asyncio.Lock()

    async def connect(self) -> RpcClient:
        await self._open()
        return self

    @property
    def connected(self) -> bool:
        return self._amqp.connected

    async def ready(self) -> None:
        """Raises unless a connection to the broker is open (or opens now)."""
        await asyncio.wait_for(self._open(), 5.0)

    async def _open(self) -> AbstractChannel:
        async with self._connecting:
            if self._channel is None:
                connection = await self._amqp.open()
                connection.close_callbacks.add(self._on_lost)
                channel = connection.channel()
                await channel  # opened
                replies = await channel.declare_queue(exclusive=True, auto_delete=True)
                self._channel = channel
                self._reply_to = replies.name
            if not self._consuming:  # the first time, and again after the connection came back
                # aiormq's consumer: aio-pika's wraps each reply in a message object and a
                # task of its own, which a body handed to a future does not need
                await self._channel.ready()  # restored, after the connection came back
                underlay = await self._channel.get_underlay_channel()
                await underlay.basic_consume(self._reply_to, self._on_reply, no_ack=True)
                self._consuming, self._declared = True, set()
            return self._channel

    def _on_lost(self, *_: Any) -> None:
        self._consuming = False  # aio-pika cleared ``connection.connected`` before calling this
        for future in self._pending.values():
            if not future.done():
                future.set_exception(RpcUnavailable("the connection to the broker was lost"))

    async def _on_reply(self, message: DeliveredMessage) -> None:
        future = self._pending.pop(message.header.properties.correlation_id or "", None)
        if future is not None and not future.done():
            future.set_result(json.loads(message.body))

    async def _exchange(self, queue: str, body: bytes, within_seconds: float) -> dict[str, Any]:
        correlation_id = uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        try:
            channel = await self._open()
            if queue not in self._declared:  # a request made while the service starts waits
                await declare_command_queue(channel, queue)
                self._declared.add(queue)
            self._pending[correlation_id] = future
            properties = Basic.Properties(
                content_type="application/json",
                correlation_id=correlation_id,
                reply_to=self._reply_to,
                expiration=str(int(within_seconds * 1000)),
                headers=dict(tracing.outgoing()) or None,  # the caller's trace goes with it
            )
            underlay = await channel.get_underlay_channel()  # aiormq's: no Message object
            await underlay.basic_publish(body, routing_key=queue, properties=properties)
            return await future
        except RpcUnavailable:  # the connection went under the request (``_on_lost``)
            raise
        except Exception as error:  # the connection or channel broke: consume again next time
            self._consuming = False
            raise RpcUnavailable(f"the broker did not take the request: {error!r}") from error
        finally:
            self._pending.pop(correlation_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: ``_on_lost`` may fail it as the publish fails

    async def close(self) -> None:
        async with self._connecting:
            if self._amqp.connection is not None:
                with contextlib.suppress(RuntimeError):  # frozen while the connection closes
                    self._amqp.connection.close_callbacks.discard(self._on_lost)
            await self._amqp.close(self._channel)
            self._channel, self._consuming = None, False
