"""What the relay keeps in its own log, and how its view follows that log.

The ``session.*`` events arrive through the inbox (one replica at a time, each once) and are
kept as they are, in the session's stream of the relay's log; every replica folds its view from
that log, so a restarted relay has the same view without asking anyone. The relay's own
events (``relay.RecordingStored``) are the only ones its outbox publishes.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import structlog

from eventlog import NewEvent, Stream, StreamState, Transaction, keep_turning, write
from eventlog.follow import follow_batches
from eventlog.model import SystemCause
from eventlog.snapshots import Snapshots
from eventlog.store import EventStore
from eventlog.writing import History
from media_relay.domain.state import SESSION_STREAM, SessionView, session_of
from media_relay.hub import Hub
from media_relay.view import RelayView, fold_session
from support_contracts import Envelope, Event
from support_contracts.relay import RELAY_EVENTS, RecordingStored
from support_contracts.topology import RELAY_FOLLOWS

log = structlog.get_logger(__name__)

OWN_EVENTS = frozenset(event.event_type() for event in RELAY_EVENTS)
FOLLOWED = frozenset(event.event_type() for event in RELAY_FOLLOWS)


async def keep_session_event(envelope: Envelope, tx: Transaction) -> None:
    """The inbox's handler: a session's event into the relay's log, ids and times unchanged,
    only those its view folds (``RELAY_FOLLOWS``: what its queue is bound to; a queue declared
    by an older relay may still be bound to more). One append, which also records the event as
    handled (the inbox's ``record_in_append``): what is not kept writes nothing, the second
    time as the first."""
    if session_of(envelope) is None:
        return  # a csr's, a number's or the site's stream: nothing the relay needs
    envelope.event()  # an unknown type or invalid data is refused here (dead-lettered), never kept
    if envelope.type not in FOLLOWED:
        return  # a heartbeat, a re-queue: nothing the view folds
    await tx.append(envelope.stream_id, [NewEvent.copy_of(envelope)], StreamState.ANY)


async def history(store: EventStore, session_id: UUID) -> SessionView | None:
    """A session the view let go (ended long ago), folded again from the relay's log."""
    return fold_session(session_id, await store.read_stream(f"{SESSION_STREAM}{session_id}"))


def publishes(envelope: Envelope) -> bool:
    """The outbox relay's filter: only the relay's own events leave."""
    return envelope.type in OWN_EVENTS


async def follow_log(
    store: EventStore, view: RelayView, hub: Hub, saved: Snapshots, *, retry_seconds: float = 1.0
) -> None:
    """Fold the log into the view, forever, and let the hub enforce each session event. A
    database outage is waited out (the relay is not ready meanwhile: ``view.following``) and
    the view goes on from where it was."""

    async def turn() -> None:
        async for events in follow_batches(store, view.position, idle_seconds=1.0):
            view.following = True
            for envelope in events:
                applied = view.apply(envelope)
                if applied is not None:
                    await hub.on_event(*applied)
            await view.changed()
            await saved.folded(len(events), view.position, view.dump)

    def stopped() -> None:
        view.following = False

    await keep_turning(
        turn, failed="relay.follow_failed", retry_seconds=retry_seconds, on_error=stopped
    )


def snapshots(store: EventStore, every_events: int = 10_000) -> Snapshots:
    """The view's snapshots (issue 13: a start folds what came after the latest, not the whole
    log); ``v1`` is the shape of ``RelayView.dump``."""
    return Snapshots(store, "relay-view/v1", every_events=every_events)


class RecordingLog:
    """Finished recordings, as ``relay.RecordingStored`` events in ``recordings-<session>``."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def stored(self, manifest: dict[str, Any]) -> None:
        recording_id, session_id = UUID(manifest["recording_id"]), UUID(manifest["session_id"])
        event = RecordingStored(
            recording_id=recording_id,
            session_id=session_id,
            activity_id=UUID(manifest["activity_id"]),
            frames=manifest["frames"],
            bytes=manifest["bytes"],
            location=manifest["location"],
        )
        cause = SystemCause(command_id=event.activity_id, correlation_id=session_id)

        def once(recorded: History) -> list[Event]:
            """Stored once: a manifest reported again (a restart) changes nothing."""
            known = {e.data["recording_id"] for e in recorded.events}
            return [] if str(recording_id) in known else [event]

        stream = Stream(f"recordings-{session_id}", History)
        written = await write(self._store, stream, once, cause)
        if not written.recorded:
            log.info("relay.recording_stored_before", recording_id=str(recording_id))

    async def recordings(self, session_id: UUID) -> list[dict[str, Any]]:
        events = await self._store.read_stream(f"recordings-{session_id}")
        return [{**e.data, "stored_at": e.occurred_at.isoformat()} for e in events]
