"""Request/reply in one process (the embedded demo, fast tests): the wire format of
``support_rpc`` without a broker between. The request is encoded as over RabbitMQ, answered by
the same :class:`Answering` (so a bad request, a refusal and a bug are answered alike), the reply
decoded, and a refusal raised as :class:`Refusal`; a queue nobody serves yet is waited on
until the call's time is up, as a durable queue holds a request for its service."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from support_rpc.client import Caller
from support_rpc.server import Answering, Handler


class MemoryRpc:
    """The command queues of one process: who serves each, taken in turns."""

    def __init__(self) -> None:
        self._servers: dict[str, list[MemoryServer]] = {}
        self._turns = itertools.count()
        self._changed = asyncio.Event()

    def server(self, queue: str, handler: Handler) -> MemoryServer:
        return MemoryServer(self, queue, handler)

    def client(self) -> MemoryClient:
        return MemoryClient(self)

    def _serve(self, server: MemoryServer, serving: bool) -> None:
        servers = self._servers.setdefault(server.queue, [])
        if serving and server not in servers:
            servers.append(server)
        elif not serving and server in servers:
            servers.remove(server)
        self._changed.set()
        self._changed = asyncio.Event()

    async def serving(self, queue: str) -> MemoryServer:
        """A server of ``queue``, once there is one."""
        while not (servers := self._servers.get(queue)):
            await self._changed.wait()
        return servers[next(self._turns) % len(servers)]


class MemoryServer:
    def __init__(self, rpc: MemoryRpc, queue: str, handler: Handler) -> None:
        self._rpc, self.queue = rpc, queue
        self._answer = Answering(queue, handler)
        self.answered = 0
        self._serving = False
        self._in_hand: set[asyncio.Task[dict[str, Any]]] = set()

    async def start(self) -> MemoryServer:
        self._serving = True
        self._rpc._serve(self, True)
        return self

    @property
    def queue_name(self) -> str:
        return self.queue

    async def ready(self) -> None:
        if not self._serving:
            raise RuntimeError(f"{self.queue}: not taking commands")

    async def answer(self, body: bytes) -> dict[str, Any]:
        task = asyncio.ensure_future(self._answer(body))
        self._in_hand.add(task)  # in hand until it is answered, whether the caller waits or not
        task.add_done_callback(self._in_hand.discard)
        reply = await asyncio.shield(task)  # a caller that gives up does not stop the work
        self.answered += 1
        decoded: dict[str, Any] = json.loads(json.dumps(reply))  # what the wire would carry
        return decoded

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """No new requests; those in hand are answered first (for up to ``grace_seconds``)."""
        self._serving = False
        self._rpc._serve(self, False)
        if self._in_hand:
            await asyncio.wait(self._in_hand, timeout=grace_seconds)


class MemoryClient(Caller):
    def __init__(self, rpc: MemoryRpc) -> None:
        self._rpc = rpc

    async def connect(self) -> MemoryClient:
        return self

    @property
    def connected(self) -> bool:
        return True

    async def ready(self) -> None:
        return None

    async def _exchange(self, queue: str, body: bytes, within_seconds: float) -> dict[str, Any]:
        server = await self._rpc.serving(queue)
        return await server.answer(body)

    async def close(self) -> None:
        return None
