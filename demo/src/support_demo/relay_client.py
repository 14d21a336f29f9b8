"""A participant's live channel to the media relay, as a console or a customer page would hold
it: connected with what the gateway handed out (``relay_url`` and ``participant_token``),
reading in the background, keeping the notices and the frames' payloads it received."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from uuid import uuid4

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from media_relay import frames


class RelayClient:
    def __init__(self, name: str, ws: ClientConnection) -> None:
        self.name, self.ws = name, ws
        self.notices: list[dict[str, Any]] = []
        self.frames: list[bytes] = []
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, reply: dict[str, Any], name: str = "participant") -> RelayClient:
        ws = await connect(f"{reply['relay_url']}?token={reply['participant_token']}")
        return cls(name, ws)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self.frames.append(bytes(frames.parse(message).payload))
                else:
                    self.notices.append(json.loads(message))
        except ConnectionClosed:
            pass  # the relay closed it: the session ended, or the participant left

    async def told(self, kind: str, within: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The first notice of ``kind`` with these fields, once it has come."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for notice in self.notices:
                if notice["type"] == kind and all(notice.get(k) == v for k, v in fields.items()):
                    return notice
            await asyncio.sleep(0.02)
        raise TimeoutError(f"{self.name} was not told {kind} {fields} within {within} s")

    async def ask(self, **request: Any) -> dict[str, Any]:
        """A start or stop request; its ``ok`` answer."""
        return await self.told("ok", ref=await self._send(request))

    async def refused(self, **request: Any) -> dict[str, Any]:
        """A request that is to be refused; its ``error`` answer."""
        return await self.told("error", ref=await self._send(request))

    async def _send(self, request: dict[str, Any]) -> str:
        ref = uuid4().hex
        await self.ws.send(json.dumps({**request, "ref": ref}))
        return ref

    async def close(self) -> None:
        await self.ws.close()
        await self._reader
