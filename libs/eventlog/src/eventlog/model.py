"""What goes into the log and what comes out: new events, recorded envelopes, refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NamedTuple, Protocol
from uuid import UUID, uuid4

from support_contracts import Envelope, Event

NO_STREAM = -1
"""The version of a stream with no events (what ``stream_version`` answers, and a fold of
nothing has): as an expected version, the same as ``StreamState.NO_STREAM``."""


class StreamState(Enum):
    """Where an append expects the stream to be, besides at a version (issue 15.2): anywhere
    (no check), not there yet, or there with at least one event."""

    ANY = "any"
    NO_STREAM = "no stream"
    EXISTS = "an existing stream"


Expected = int | StreamState
"""An append's expected version: the stream's version (``NO_STREAM``, -1, for none), or a
:class:`StreamState`."""


class Handling(NamedTuple):
    """The inbox's record that ``consumer`` handled ``handled_id`` (an event's or a command's
    id), written with the events by ``append_once``."""

    consumer: str
    handled_id: UUID


class Append(NamedTuple):
    """One stream's share of an append to several at once (``Transaction.append_streams``)."""

    stream_id: str
    events: Sequence[NewEvent]
    expected: Expected


def with_events(appends: Sequence[Append]) -> list[Append]:
    """The appends that have events (the others write and check nothing), each stream once."""
    given = [a for a in appends if a.events]
    if len({a.stream_id for a in given}) < len(given):
        raise ValueError("each stream once in an append to several")
    return given


def satisfied(expected: Expected, actual: int) -> bool:
    """Whether a stream at version ``actual`` (-1: no events) is where ``expected`` says."""
    match expected:
        case StreamState.ANY:
            return True
        case StreamState.NO_STREAM:
            return actual == NO_STREAM
        case StreamState.EXISTS:
            return actual > NO_STREAM
        case int() if expected >= NO_STREAM:
            return actual == expected
    raise ValueError(f"not an expected version: {expected!r} (a version >= -1, or a StreamState)")


def utc_now() -> datetime:
    """The clock every service keeps time by, unless a test gives it another."""
    return datetime.now(UTC)


class Cause(Protocol):
    """What recorded events follow from: a command, or a service's own work."""

    @property
    def command_id(self) -> UUID: ...

    @property
    def correlation_id(self) -> UUID: ...


@dataclass(frozen=True)
class SystemCause:
    """A cause that is not a command: an event handled (its id as ``command_id``), or a
    service's own work."""

    command_id: UUID
    correlation_id: UUID


class ConcurrencyConflict(Exception):
    """The stream moved on since it was read: reload, decide again, retry. Nothing was written."""

    def __init__(self, stream_id: str, expected: Expected, actual: int | None) -> None:
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        seen = "another writer's concurrent append" if actual is None else f"version {actual}"
        where = expected.value if isinstance(expected, StreamState) else f"version {expected}"
        super().__init__(f"stream {stream_id} expected at {where}, found {seen}")


class LockLost(Exception):
    """An exclusive lock was lost while held (its connection went): the work under it was
    stopped."""


class Lease:
    """An exclusive lock while it is held. ``lost`` is set the moment the lock goes with its
    connection; from then on another replica may hold it, so nothing more may be done under
    it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lost = asyncio.Event()


class DuplicateEvent(Exception):
    """An event with this id is in the log already. Nothing was written."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended, with the metadata the envelope will carry."""

    type: str
    data: dict[str, Any]
    event_id: UUID
    occurred_at: datetime
    correlation_id: UUID
    causation_id: UUID
    schema_version: int = 1

    @classmethod
    def from_event(
        cls,
        event: Event,
        *,
        occurred_at: datetime,
        correlation_id: UUID,
        causation_id: UUID,
        event_id: UUID | None = None,
    ) -> NewEvent:
        return cls(
            type=event.event_type(),
            data=event.model_dump(mode="json"),
            event_id=event_id or uuid4(),
            occurred_at=occurred_at,
            correlation_id=correlation_id,
            causation_id=causation_id,
            schema_version=event.schema_version,
        )

    @classmethod
    def copy_of(cls, envelope: Envelope) -> NewEvent:
        """An event recorded in another log, to keep in this one: ids, times and data as they
        were (a stream version and position are this log's own)."""
        return cls(**{f.name: getattr(envelope, f.name) for f in fields(cls)})

    @classmethod
    def caused(cls, events: Sequence[Event], cause: Cause, occurred_at: datetime) -> list[NewEvent]:
        """``events`` as ``cause`` (a command, or a service's own work) made them: its
        correlation id carried on, its id as their causation (issue 15.2: stamped in one
        place)."""
        return [
            cls.from_event(
                e,
                occurred_at=occurred_at,
                correlation_id=cause.correlation_id,
                causation_id=cause.command_id,
            )
            for e in events
        ]

    def recorded(self, stream_id: str, stream_version: int, global_position: int) -> Envelope:
        """The envelope of this event once written. Built without re-validation: the log only
        hands back what it stored."""
        return Envelope.model_construct(
            event_id=self.event_id,
            type=self.type,
            schema_version=self.schema_version,
            stream_id=stream_id,
            stream_version=stream_version,
            global_position=global_position,
            occurred_at=self.occurred_at,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            data=self.data,
        )
