"""Events to append in tests: real contract events, with fresh ids, and a decision's; and a
count of the transactions a store opens."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from eventlog import NO_STREAM, EventStore, NewEvent, Transaction
from support_contracts import Envelope, Event
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


def pick(name: str) -> list[Event]:
    """What a decision in a test decides: one event, not yet stamped."""
    return [ActiveCustomerSelected(participant_id=name)]


async def recorded(store: EventStore, *labels: str) -> list[Envelope]:
    """An event for each label, each in a stream of its own, as recorded."""
    return [(await store.append(f"session-{x}", [new_event(x)], NO_STREAM))[0] for x in labels]


def transactions_counted(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that grows by one with each transaction ``store`` opens from now on."""
    opened: list[int] = []
    begin = store.transaction

    def counted() -> AbstractAsyncContextManager[Transaction]:
        opened.append(1)
        return begin()

    monkeypatch.setattr(store, "transaction", counted)
    return opened
