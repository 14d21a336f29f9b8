"""Real WebSocket clients of the relay for the tests, and the session-svc commands that set a
session up. Each peer reads in the background and keeps what arrived, in order."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from media_relay import frames
from media_relay.settings import Settings
from service_runtime.participant_tokens import mint
from support_rpc import RpcClient
from support_testkit.plugin import SettingsFor
from support_testkit.processes import http_get as plain_get
from support_testkit.waiting import eventually
from support_testkit.wire import wire_call

SECRET = "a-test-secret-of-the-relay-and-gateway"


def relay_settings(
    settings_for: SettingsFor,
    schema: str,
    session_commands: str,
    recordings: Path,
    **overrides: Any,
) -> Settings:
    return settings_for(
        Settings,
        schema,
        session_commands=session_commands,
        host="127.0.0.1",
        port=0,
        participant_token_secret=SECRET,
        recordings_dir=recordings,
        **overrides,
    )


def token(participant: str, session_id: UUID | str, *, ttl: float = 600) -> str:
    return mint(SECRET, participant, UUID(str(session_id)), ttl_seconds=ttl)


class Sessions:
    """session-svc over request/reply, as the gateway will call it."""

    def __init__(self, client: RpcClient, queue: str) -> None:
        self._client, self._queue = client, queue

    async def __call__(self, command_type: str, actor: str | None, **fields: Any) -> dict[str, Any]:
        return await wire_call(self._client, self._queue, actor=actor)(command_type, **fields)

    async def start(self, csr: str) -> str:
        started = await self("StartSession", csr, csr_id=csr, csr_name=csr.title())
        return str(started["session"]["session_id"])

    async def customer(self, session_id: str, name: str) -> str:
        joined = await self("JoinAsCustomer", None, session_id=session_id, name=name)
        return str(joined["participant_id"])

    async def assistant(self, session_id: str, csr: str) -> None:
        await self("JoinAsAssistant", csr, session_id=session_id, csr_id=csr, name=csr.title())

    async def activity(self, session_id: str, actor: str, kind: str) -> str:
        started = await self(
            "StartActivity", actor, session_id=session_id, kind=kind, participant_id=actor
        )
        return str(started["activity_id"])


async def gather(
    port: int, sessions: Sessions, *, assistant: str | None = None
) -> tuple[str, str, Peer, Peer]:
    """alice's session with the customer Carol (and ``assistant``, joined but not connected),
    alice and Carol connected to the relay: the session, Carol's id and the two peers."""
    session = await sessions.start("alice")
    carol = await sessions.customer(session, "Carol")
    if assistant is not None:
        await sessions.assistant(session, assistant)
    alice = await Peer.connect(port, session, "alice")
    return session, carol, alice, await Peer.connect(port, session, carol)


class Peer:
    def __init__(self, ws: ClientConnection, participant: str) -> None:
        self.ws, self.participant = ws, participant
        self.notices: list[dict[str, Any]] = []
        self.frames: list[bytes] = []
        self.closed: tuple[int, str] | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        port: int,
        session_id: str,
        participant: str,
        *,
        token_text: str | None = None,
        receive_buffer: int | None = None,
    ) -> Peer:
        sock = None
        if receive_buffer is not None:  # a viewer on a slow line: the kernel holds little
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            sock.connect(("127.0.0.1", port))
            sock.setblocking(False)
        ws = await connect(
            f"ws://127.0.0.1:{port}/v1/sessions/{session_id}/relay"
            f"?token={token_text or token(participant, session_id)}",
            sock=sock,
            max_size=2**21,
            max_queue=1 if receive_buffer is not None else 64,
            compression=None,
        )
        peer = cls(ws, participant)
        await peer.expect("welcome")
        return peer

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, bytes):
                    self.frames.append(message)
                else:
                    self.notices.append(json.loads(message))
        except ConnectionClosed:
            pass
        self.closed = (self.ws.close_code or 1006, self.ws.close_reason or "")

    async def expect(
        self,
        kind: str,
        where: Callable[[dict[str, Any]], bool] = lambda n: True,
        within: float = 10,
    ) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((n for n in self.notices if n["type"] == kind and where(n)), None)

        notice = await eventually(found, within=within, what=f"{self.participant} told {kind}")
        assert notice is not None
        return notice

    async def request(self, **fields: Any) -> dict[str, Any]:
        """A start or stop request, answered with ``ok`` or ``error`` carrying its ref."""
        ref = str(uuid4())
        await self.ws.send(json.dumps({**fields, "ref": ref}))
        return await eventually(
            lambda: next((n for n in self.notices if n.get("ref") == ref), None),
            what=f"the answer to {fields}",
        )

    async def chat(self, text: str) -> None:
        await self.ws.send(json.dumps({"type": "chat", "text": text}))

    async def share(self, activity_id: str, payload: bytes, kind: str = "share") -> None:
        await self.ws.send(frames.encode({"kind": kind, "activity_id": activity_id}, payload))

    def errors(self) -> list[dict[str, Any]]:
        return [n for n in self.notices if n["type"] == "error"]

    def payloads(self) -> list[bytes]:
        return [bytes(frames.parse(f).payload) for f in self.frames]

    async def closed_with(self, within: float = 10) -> tuple[int, str]:
        await eventually(lambda: self.closed is not None, within=within, what="the close")
        assert self.closed is not None
        return self.closed

    async def close(self) -> None:
        await self.ws.close()
        await self._reader


async def http_get(url: str, token_text: str) -> tuple[int, object]:
    """A GET on the relay's port (its routes besides the WebSocket), with a participant token;
    the body parsed when it is JSON."""
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}" if parts.query else parts.path
    assert parts.port is not None
    status, headers, body = await plain_get(
        parts.port, path, {"Authorization": f"Bearer {token_text}"}
    )
    json_body = "application/json" in headers.get("content-type", "")
    return status, (json.loads(body) if json_body else body)


async def recordings(base: str, session_id: str, controller: str = "alice") -> list[dict[str, Any]]:
    """The session's finished recordings as its controller lists them (``base`` is the
    ``.../recordings`` URL); empty until the first is stored."""
    status, body = await http_get(base, token(controller, session_id))
    assert status == 200, body
    listed: list[dict[str, Any]] = body["recordings"]  # type: ignore[index]
    return listed
