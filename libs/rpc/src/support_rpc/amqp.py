"""One AMQP connection per process (issue 15.8). Every part that talks to RabbitMQ (the event
publisher and consumers, the command server and client, the gateway's listener, the probe) takes
where its connection comes from: a url, for a connection of its own, or a process's
:class:`SharedConnection`, on which it opens channels of its own. Either way the connection is
robust: when the broker goes, it is opened again by itself and every channel, queue, binding and
consumer declared through aio-pika with it; a part that must know of the loss at once (a request
in flight, a listener) hears it from the connection's ``close_callbacks``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustChannel, AbstractRobustConnection
from aiormq.abc import FieldTable

Connect = Callable[[], Awaitable[AbstractRobustConnection]]
"""A process's connection, opened the first time it is asked for."""


class SharedConnection:
    """One robust connection, opened when first asked for (a broker that does not answer then
    is an error, not a wait), opened again after every loss ``reconnect_seconds`` apart, and
    closed by whoever made it, after every part that used it."""

    def __init__(self, url: str, *, name: str = "", reconnect_seconds: float = 1.0) -> None:
        self._url, self._name, self._reconnect_seconds = url, name, reconnect_seconds
        self._connection: AbstractRobustConnection | None = None
        self._opening = asyncio.Lock()

    async def __call__(self) -> AbstractRobustConnection:
        async with self._opening:
            if self._connection is None or self._connection.is_closed:
                self._connection = await connect(self._url, self._name, self._reconnect_seconds)
            return self._connection

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


async def connect(
    url: str, name: str = "", reconnect_seconds: float = 5.0
) -> AbstractRobustConnection:
    """A robust connection, named in the broker's list of connections by ``name``."""
    properties: FieldTable | None = {"connection_name": name} if name else None
    return await aio_pika.connect_robust(
        url, reconnect_interval=reconnect_seconds, client_properties=properties
    )


class Amqp:
    """A part's side of it: its connection, its own (from a url: closed with the part) or
    shared (left open for the others)."""

    def __init__(self, source: str | Connect) -> None:
        self._source = source
        self.connection: AbstractRobustConnection | None = None

    async def open(self) -> AbstractRobustConnection:
        if self.connection is None or self.connection.is_closed:
            source = self._source
            self.connection = await (connect(source) if isinstance(source, str) else source())
        return self.connection

    @property
    def connected(self) -> bool:
        connection = self.connection
        return connection is not None and not connection.is_closed and connection.connected.is_set()

    async def ready(self, *channels: AbstractChannel | None, within: float = 1.0) -> bool:
        """Connected, and ``channels`` open again since (the connection is up before the
        channels on it are opened again, with their queues, bindings and consumers)."""
        if not self.connected:
            return False
        try:
            async with asyncio.timeout(within):
                for channel in channels:
                    if isinstance(channel, AbstractRobustChannel):
                        await channel.ready()
        except TimeoutError:
            return False
        return True

    async def close(self, *channels: AbstractChannel | None) -> None:
        """The part's channels (what they hold unacknowledged goes back to its queue), and the
        connection if it is the part's own."""
        for channel in channels:
            if channel is not None and not channel.is_closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(channel.close(), 5.0)
        if isinstance(self._source, str) and self.connection is not None:
            await self.connection.close()
