"""The relay's rooms: the connections of each session, what they may send (M1, M2), and what the
session's events end (M3, S5, S8).

Everything here runs on the event loop without waiting between a check and the delivery it
allows: a frame is checked against the view and queued to the viewers in one step, and an
event that ends an activity purges what of it still waits in every viewer's queue.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import structlog

from media_relay import frames
from media_relay.domain import rules
from media_relay.domain.state import SessionView, Status
from media_relay.frames import BadFrame
from media_relay.recording import ObjectStorage, Recorder, RecordingStorage
from media_relay.sending import TooFarBehind, ViewerQueue
from media_relay.view import RelayView
from support_contracts import Event
from support_contracts import session as ev
from support_contracts.refusals import Refusal
from support_contracts.vocabulary import ActivityKind, Role

log = structlog.get_logger(__name__)

# Close codes the relay uses (4000-4999 are the application's).
CLOSE_LEFT = 4000  # the participant left or was handed off
CLOSE_SESSION_ENDED = 4001
CLOSE_TOO_FAR_BEHIND = 4008

RecordingStored = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(eq=False)
class Client:
    """One WebSocket connection of a participant."""

    participant_id: str
    session_id: UUID
    queue: ViewerQueue = field(default_factory=ViewerQueue)

    def tell(self, message: str) -> None:
        try:
            self.queue.put(message)
        except TooFarBehind as error:
            self.queue.abort(CLOSE_TOO_FAR_BEHIND, str(error))


@dataclass
class Room:
    clients: set[Client] = field(default_factory=set)
    seq: int = 0


class Hub:
    def __init__(
        self,
        view: RelayView,
        storage: RecordingStorage | ObjectStorage,
        stored: RecordingStored,
        *,
        lossy_limit: int = 8,
        reliable_limit_bytes: int = 16 * 2**20,
    ) -> None:
        self.view, self.storage, self._stored = view, storage, stored
        self.rooms: dict[UUID, Room] = {}
        self.recorders: dict[UUID, Recorder] = {}
        self._limits = {"lossy_limit": lossy_limit, "reliable_limit_bytes": reliable_limit_bytes}

    # --- connections ----------------------------------------------------------------------------

    def attach(self, participant_id: str, session: SessionView) -> Client:
        client = Client(participant_id, session.id, ViewerQueue(**self._limits))
        self.rooms.setdefault(session.id, Room()).clients.add(client)
        role = session.participants.get(participant_id)
        client.tell(frames.notice("welcome", you=participant_id, role=role, **session.as_json()))
        return client

    def detach(self, client: Client) -> None:
        room = self.rooms.get(client.session_id)
        if room is not None:
            room.clients.discard(client)
            if not room.clients:
                del self.rooms[client.session_id]

    def viewers(self, session_id: UUID) -> list[dict[str, Any]]:
        room = self.rooms.get(session_id)
        return [
            {
                "participant_id": c.participant_id,
                "sent": c.queue.sent,
                "dropped": c.queue.dropped,
                "waiting": len(c.queue),
            }
            for c in (room.clients if room else ())
        ]

    # --- what clients send ----------------------------------------------------------------------

    def on_frame(self, client: Client, message: bytes) -> None:
        """A binary frame: checked, then queued to every other participant (S6)."""
        try:
            frame = frames.parse(message)
            session = self._session_of(client)
            rules.may_send(session, client.participant_id, frame)
        except (BadFrame, Refusal) as error:
            code = error.code if isinstance(error, Refusal) else "bad_frame"
            client.tell(frames.notice("error", code=code, message=str(error)))
            return
        room = self.rooms[client.session_id]
        room.seq += 1
        out = frames.forwarded(frame, client.participant_id, room.seq)
        self._to_room(room, out, lossy=frame.kind.lossy, activity_id=frame.activity_id, but=client)
        self._record(session, out)

    def on_chat(self, client: Client, text: str) -> None:
        session = self._session_of(client)
        chat = session.running(ActivityKind.CHAT)
        if chat is None:
            client.tell(frames.notice("error", code="not_running", message="chat is not running"))
            return
        room = self.rooms[client.session_id]
        room.seq += 1
        out = frames.notice("chat", **{"from": client.participant_id}, text=text, seq=room.seq)
        self._to_room(room, out, lossy=False, activity_id=chat.id, but=None)
        self._record(session, out)

    def _session_of(self, client: Client) -> SessionView:
        session = self.view.get(client.session_id)
        if session is None or client.participant_id not in session.participants:
            raise Refusal(403, "not_participant", "you are no longer a participant of this session")
        return session

    def _to_room(
        self,
        room: Room,
        message: str | bytes,
        *,
        lossy: bool,
        activity_id: UUID | None,
        but: Client | None,
    ) -> None:
        for viewer in room.clients:
            if viewer is but:
                continue
            try:
                viewer.queue.put(message, lossy=lossy, activity_id=activity_id)
            except TooFarBehind as error:
                viewer.queue.abort(CLOSE_TOO_FAR_BEHIND, str(error))

    def _record(self, session: SessionView, message: str | bytes) -> None:
        recording = session.running(ActivityKind.RECORDING)
        if recording is None:
            return
        recorder = self.recorders.get(recording.id)
        if recorder is None:
            recorder = self.recorders[recording.id] = self.storage.start(session.id, recording.id)
        recorder.write(message)

    # --- what the session's events end (M3) -----------------------------------------------------

    async def on_event(self, session: SessionView, event: Event) -> None:
        if isinstance(event, ev.ActivityEnded) and event.kind is ActivityKind.RECORDING:
            await self._finish_recording(session, event)
        room = self.rooms.get(session.id)
        if room is None:
            return
        notice = _notice(event)
        if isinstance(event, ev.ActivityEnded):
            for client in room.clients:
                client.queue.purge(event.activity_id)
        if isinstance(event, ev.ActivityStarted) and event.kind is ActivityKind.RECORDING:
            if event.activity_id not in self.recorders:  # a room to record: start the file now
                self.recorders[event.activity_id] = self.storage.start(
                    session.id, event.activity_id
                )
        for client in list(room.clients):
            if notice is not None:
                client.tell(notice)
            if session.status is Status.ENDED:
                client.queue.close_after(CLOSE_SESSION_ENDED, "the session ended")
            elif (
                isinstance(event, ev.ParticipantLeft)
                and client.participant_id == event.participant_id
            ):
                client.queue.close_after(CLOSE_LEFT, f"you left the session ({event.reason})")

    async def _finish_recording(self, session: SessionView, event: ev.ActivityEnded) -> None:
        recorder = self.recorders.pop(event.activity_id, None)
        recorder = recorder or self.storage.unfinished(session.id, event.activity_id)
        if recorder is None:
            return  # nothing was recorded here
        manifest = recorder.finish(event.reason.value)
        manifest["location"] = await self.storage.keep(recorder)
        log.info(
            "relay.recording_finished",
            recording_id=manifest["recording_id"],
            frames=manifest["frames"],
        )
        await self._stored(manifest)


def _notice(event: Event) -> str | None:
    """What the clients are told of a session event, or None for what does not concern them."""
    match event:
        case ev.ActivityStarted(activity_id=activity, kind=kind, started_by=by):
            return frames.notice("activity_started", activity_id=activity, kind=kind, started_by=by)
        case ev.ActivityEnded(activity_id=activity, kind=kind, reason=reason):
            return frames.notice("activity_ended", activity_id=activity, kind=kind, reason=reason)
        case ev.ControlTransferred(from_csr=giver, to_csr=receiver, voice_continues=voice):
            return frames.notice(
                "control_transferred", **{"from": giver}, to=receiver, voice_continues=voice
            )
        case ev.ActiveCustomerSelected():
            return frames.notice("active_customer", participant_id=event.participant_id)
        case ev.CustomerJoined():
            return frames.notice("joined", participant_id=event.participant_id, role=Role.CUSTOMER)
        case ev.AssistantJoined():
            return frames.notice("joined", participant_id=event.csr_id, role=Role.ASSISTANT)
        case ev.ParticipantLeft():
            return frames.notice("left", participant_id=event.participant_id, reason=event.reason)
        case ev.HandedToQueue() | ev.HandedToAgents():
            return frames.notice("handed_off", by=event.from_csr)
        case ev.AgentAssigned():
            return frames.notice("agent_assigned", agent_id=event.agent_id, name=event.agent_name)
        case ev.SessionEnded():
            return frames.notice("session_ended", reason=event.reason)
    return None


def parse_request(text: str) -> dict[str, Any]:
    """A client's text message as a JSON object, or Refusal."""
    try:
        request = json.loads(text)
    except ValueError:
        raise Refusal(400, "bad_request", "a text message is a JSON object") from None
    if not isinstance(request, dict) or not isinstance(request.get("type"), str):
        raise Refusal(400, "bad_request", 'a text message is a JSON object with a "type"')
    return request
