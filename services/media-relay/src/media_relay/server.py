"""The relay's network door: WebSocket connections of participants, and a few HTTP routes on
the same port (health, recordings, viewers' counters).

``/v1/sessions/{id}/relay?token=...`` opens a participant's connection. The token is checked
during the opening handshake, so a bad, expired or foreign token gets an HTTP error and never
a frame (M1): 401 for a token that is not good, 403 for a token of another session or of
someone who is not (or no longer) a participant, 409 for an ended session.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4
from weakref import WeakKeyDictionary

import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from media_relay import frames
from media_relay.domain.state import SessionView, Status
from media_relay.hub import Client, Hub, parse_request
from media_relay.sending import Closing
from media_relay.view import RelayView
from service_runtime import presence
from service_runtime.participant_tokens import InvalidParticipantToken, verify
from support_contracts.refusals import Refusal
from support_contracts.replies import ActivityReply, SessionReply, SiteReply
from support_contracts.session import EndActivity, GetSiteSettings, RecordHeartbeat, StartActivity
from support_contracts.vocabulary import ActivityKind, Role
from support_rpc import Call, RpcTimeout, ask

log = structlog.get_logger(__name__)

CHAT_MAX = 4000
PRESENCE_FALLBACK_SECONDS = 5.0  # between beats while the site settings cannot be read
Recordings = Callable[[UUID], Awaitable[list[dict[str, Any]]]]
History = Callable[[UUID], Awaitable[SessionView | None]]
"""A session the view let go (ended long ago), folded from the relay's log."""


class RelayServer:
    def __init__(
        self,
        view: RelayView,
        hub: Hub,
        sessions: Call,
        recordings: Recordings,
        *,
        token_secret: str,
        history: History,
        join_wait_seconds: float = 2.0,
        max_frame_bytes: int = 2**20,
        write_limit_bytes: int = 2**16,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.view, self.hub, self._sessions, self._recordings = view, hub, sessions, recordings
        self._history = history
        self._secret, self._join_wait, self._clock = token_secret, join_wait_seconds, clock
        self._max_frame, self._write_limit = max_frame_bytes, write_limit_bytes
        # who each connection is, from its handshake; weak, so a handshake that fails after
        # the token was checked leaves nothing behind
        self._admitted: WeakKeyDictionary[ServerConnection, tuple[str, UUID]] = WeakKeyDictionary()
        self._requests: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self.ready = False
        self.port = 0

    async def start(self, host: str, port: int) -> RelayServer:
        self._server = await serve(
            self._connection,
            host,
            port,
            process_request=self._process_request,
            compression=None,  # frames are opaque and mostly compressed already
            max_size=self._max_frame,
            write_limit=self._write_limit,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        log.info("relay.listening", host=host, port=self.port)
        return self

    async def stop(self) -> None:
        """Close every connection (1001, going away) and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in self._requests:
            task.cancel()

    # --- the opening handshake and the HTTP routes ----------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        url = urlsplit(request.path)
        parts = url.path.strip("/").split("/")
        try:
            if parts in (["healthz"], ["readyz"]):
                ok = parts == ["healthz"] or self.ready
                return _json(
                    200 if ok else 503, {"ready": ok} if parts == ["readyz"] else {"ok": True}
                )
            if len(parts) < 4 or parts[:2] != ["v1", "sessions"]:
                raise Refusal(404, "no_route", f"no route {url.path}")
            session_id = _uuid(parts[2])
            token = _token(request, url.query)
            match parts[3:]:
                case ["relay"]:
                    if request.headers.get("Upgrade", "").lower() != "websocket":
                        raise Refusal(
                            426,
                            "upgrade_required",
                            "this is a WebSocket: ask with Upgrade: websocket",
                        )
                    participant = await self._admit(token, session_id)
                    self._admitted[connection] = (participant, session_id)
                    return None  # on to the WebSocket handshake
                case ["recordings"]:
                    await self._controller(token, session_id)
                    return _json(200, {"recordings": await self._recordings(session_id)})
                case ["recordings", recording]:
                    await self._controller(token, session_id)
                    manifest = await self.hub.storage.manifest(session_id, _uuid(recording))
                    if manifest is None:
                        raise Refusal(
                            404,
                            "unknown_recording",
                            f"no finished recording {recording} in this session",
                        )
                    return _json(200, manifest)
                case ["recordings", recording, "stream"]:
                    await self._controller(token, session_id)
                    stream = await self.hub.storage.stream(session_id, _uuid(recording))
                    if stream is None:
                        raise Refusal(
                            404, "unknown_recording", f"no recording {recording} in this session"
                        )
                    return _response(200, stream, "application/octet-stream")
                case ["viewers"]:
                    await self._controller(token, session_id)
                    return _json(200, {"viewers": self.hub.viewers(session_id)})
            raise Refusal(404, "no_route", f"no route {url.path}")
        except Refusal as error:  # its own HTTP answers: {"error": message}
            return _json(error.status, {"error": error.message})

    async def _admit(self, token: str, session_id: UUID) -> str:
        """The participant the token names, if it may connect to this session now."""
        try:
            claim = verify(self._secret, token, now=self._clock())
        except InvalidParticipantToken as error:
            raise Refusal(401, "bad_token", str(error)) from None
        if claim.session_id != session_id:
            raise Refusal(403, "not_participant", "this token is for another session")

        def present() -> bool:
            session = self.view.get(session_id)
            return session is not None and (
                claim.participant_id in session.participants or session.status is Status.ENDED
            )

        await self.view.wait_until(present, within_seconds=self._join_wait)
        session = self.view.get(session_id) or await self._history(session_id)
        if session is not None and session.status is Status.ENDED:
            raise Refusal(409, "session_ended", "the session has ended")
        if session is None or claim.participant_id not in session.participants:
            raise Refusal(403, "not_participant", "you are not a participant of this session")
        return claim.participant_id

    async def _controller(self, token: str, session_id: UUID) -> SessionView:
        """Recordings and counters are the controller's (the last one, once it ended)."""
        try:
            claim = verify(self._secret, token, now=self._clock())
        except InvalidParticipantToken as error:
            raise Refusal(401, "bad_token", str(error)) from None
        session = self.view.get(session_id) or await self._history(session_id)
        if claim.session_id != session_id or session is None:
            raise Refusal(403, "not_participant", "this token is for another session")
        if claim.participant_id != session.last_controller:
            raise Refusal(403, "not_controller", "only the session's controller may do this")
        return session

    # --- a participant's connection -------------------------------------------------------------

    async def _connection(self, ws: ServerConnection) -> None:
        participant_id, session_id = self._admitted.pop(ws)
        session = self.view.get(session_id)
        if session is None or participant_id not in session.participants:
            await ws.close(4003, "no longer a participant")  # left between handshake and now
            return
        client = self.hub.attach(participant_id, session)
        writer = asyncio.create_task(self._write(ws, client))
        staff = session.participants[participant_id] is not Role.CUSTOMER
        beating = asyncio.create_task(self._present(client)) if staff else None
        log.info("relay.connected", session_id=str(session_id), participant=participant_id)
        try:
            async for message in ws:
                if isinstance(message, bytes):
                    self.hub.on_frame(client, message)
                else:
                    self._on_text(client, message)
        except ConnectionClosed:
            pass
        finally:
            self.hub.detach(client)
            writer.cancel()
            if beating is not None:
                beating.cancel()
            log.info("relay.disconnected", session_id=str(session_id), participant=participant_id)

    async def _present(self, client: Client) -> None:
        """S4 (issue 14.7): a csr's open socket keeps its console present while the csr
        controls the session, as heartbeats would (``service_runtime.presence``)."""

        every = PRESENCE_FALLBACK_SECONDS
        with contextlib.suppress(Refusal, RpcTimeout):
            asking = GetSiteSettings(**_on_behalf(client))
            every = presence.beat_every((await ask(self._sessions, asking, SiteReply)).site)

        async def beat() -> None:
            session = self.view.get(client.session_id)
            if session is not None and session.controller == client.participant_id:
                beat = RecordHeartbeat(**_on_behalf(client), session_id=client.session_id)
                await ask(self._sessions, beat, SessionReply)

        await presence.keep_present(beat, every)

    @staticmethod
    async def _write(ws: ServerConnection, client: Client) -> None:
        """This viewer's sender: waits for its own socket only (M4)."""
        try:
            while True:
                await ws.send(await client.queue.get())
        except Closing as closing:
            await ws.close(closing.code, closing.reason)
        except ConnectionClosed:
            pass

    def _on_text(self, client: Client, text: str) -> None:
        try:
            request = parse_request(text)
            match request["type"]:
                case "chat":
                    message = request.get("text")
                    if not isinstance(message, str) or not 0 < len(message) <= CHAT_MAX:
                        raise Refusal(
                            400, "bad_request", f"chat text is 1 to {CHAT_MAX} characters"
                        )
                    self.hub.on_chat(client, message)
                case "start" | "stop":
                    task = asyncio.create_task(self._activity(client, request))
                    self._requests.add(task)
                    task.add_done_callback(self._requests.discard)
                case other:
                    raise Refusal(400, "bad_request", f"unknown message type {other!r}")
        except Refusal as error:
            client.tell(frames.notice("error", code=error.code, message=error.message))

    async def _activity(self, client: Client, request: dict[str, Any]) -> None:
        """Start or stop an activity through session-svc, which decides who may (M2); answer
        once the relay's view has the outcome, so frames may follow at once."""
        ref = request.get("ref")
        ids = _on_behalf(client)
        try:
            if request["type"] == "start":
                kind = ActivityKind(str(request.get("kind")))
                command: StartActivity | EndActivity = StartActivity(
                    **ids,
                    session_id=client.session_id,
                    kind=kind,
                    participant_id=client.participant_id,
                )
            else:
                activity_id = UUID(str(request.get("activity_id")))
                command = EndActivity(**ids, session_id=client.session_id, activity_id=activity_id)
        except ValueError as error:
            client.tell(frames.notice("error", ref=ref, code="bad_request", message=str(error)))
            return
        try:
            reply = await ask(self._sessions, command, ActivityReply)
        except Refusal as error:
            refusal = {"status": error.status, "code": error.code, "message": error.message}
            client.tell(frames.notice("error", ref=ref, **refusal))
            return
        except RpcTimeout as error:
            client.tell(
                frames.notice("error", ref=ref, status=503, code="unavailable", message=str(error))
            )
            return
        version = reply.session.version
        session = self.view.get(client.session_id)
        if session is not None:
            await self.view.wait_until(
                lambda: session.version >= version, within_seconds=self._join_wait
            )
        answer = {} if reply.activity_id is None else {"activity_id": str(reply.activity_id)}
        client.tell(frames.notice("ok", ref=ref, **answer))


def _on_behalf(client: Client) -> dict[str, str]:
    """The ids of a new command the relay sends for the participant of ``client``."""
    return {
        "command_id": str(uuid4()),
        "correlation_id": str(uuid4()),
        "actor_id": client.participant_id,
    }


def _uuid(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise Refusal(404, "not_an_id", f"{text!r} is not an id") from None


def _token(request: Request, query: str) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    tokens = parse_qs(query).get("token")
    if not tokens:
        raise Refusal(
            401, "no_token", "a participant token is needed (?token= or Authorization: Bearer)"
        )
    return tokens[0]


def _json(status: int, body: Any) -> Response:
    return _response(status, json.dumps(body, default=str).encode(), "application/json")


def _response(status: int, body: bytes, content_type: str) -> Response:
    headers = Headers(
        [
            ("Date", formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", content_type),
        ]
    )
    return Response(status, http.HTTPStatus(status).phrase, headers, body)
