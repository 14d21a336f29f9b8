"""What goes into the log and what comes out: new events, recorded envelopes, refusals."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from support_contracts import Envelope, Event

NO_STREAM = -1
"""Expected version of a stream that must not exist yet."""


class ConcurrencyConflict(Exception):
    """The stream moved on since it was read: reload, decide again, retry. Nothing was written."""

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        self.stream_id, self.expected, self.actual = stream_id, expected, actual
        seen = "another writer's concurrent append" if actual is None else f"version {actual}"
        super().__init__(f"stream {stream_id} expected at version {expected}, found {seen}")


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
