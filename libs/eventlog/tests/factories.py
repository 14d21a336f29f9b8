"""Events to append in tests: real contract events, with fresh ids."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from eventlog import NewEvent
from support_contracts.session import ActiveCustomerSelected


def new_event(label: str = "p") -> NewEvent:
    return NewEvent.from_event(
        ActiveCustomerSelected(participant_id=label),
        occurred_at=datetime.now(UTC),
        correlation_id=uuid4(),
        causation_id=uuid4(),
    )


def new_events(count: int, label: str = "p") -> list[NewEvent]:
    return [new_event(f"{label}{i}") for i in range(count)]
