"""The envelope every event travels in on ``support.events`` (see CONTRACT.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import Field, field_serializer, field_validator

from support_contracts.base import Event, Strict
from support_contracts.catalog import EVENTS

EXCHANGE = "support.events"


class Envelope(Strict):
    event_id: UUID
    type: str = Field(min_length=1)
    schema_version: int = Field(ge=1)
    stream_id: str = Field(min_length=1)
    stream_version: int = Field(ge=0)
    global_position: int = Field(ge=0)
    occurred_at: datetime
    correlation_id: UUID
    causation_id: UUID
    data: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("must carry a time zone (UTC)")
        return value.astimezone(UTC)

    @field_serializer("occurred_at")
    def _utc_microseconds(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    @property
    def routing_key(self) -> str:
        return routing_key(self.type)

    def event(self) -> Event:
        """The ``data`` parsed as the event model its ``type`` names."""
        return EVENTS.get(self.type).parse(self.data)


def routing_key(event_type: str) -> str:
    """``<context>.<EventType>`` of a registered event type."""
    return EVENTS.get(event_type).routing_key()
