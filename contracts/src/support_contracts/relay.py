"""Session activities on the media relay (rules M1-M4): what the relay records."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import Field

from support_contracts.base import Event


class RelayEvent(Event):
    context: ClassVar[str] = "relay"


class RecordingStored(RelayEvent):
    recording_id: UUID
    session_id: UUID
    activity_id: UUID
    frames: int = Field(ge=0)
    bytes: int = Field(ge=0)
    location: str = Field(min_length=1, max_length=2000)


RELAY_EVENTS: tuple[type[RelayEvent], ...] = (RecordingStored,)
