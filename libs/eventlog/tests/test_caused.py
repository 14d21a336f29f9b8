"""Issue 15.2: events are stamped in one place: what a command (or a service's own work) causes
carries its correlation id on and names it as the cause, every event with its own id."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from eventlog import NewEvent
from eventlog.model import SystemCause
from support_contracts.session import ActiveCustomerSelected


def test_events_carry_their_causes_correlation_and_name_it_as_their_cause() -> None:
    cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    events = [ActiveCustomerSelected(participant_id=p) for p in ("bob", "dana")]
    new = NewEvent.caused(events, cause, now)
    assert [(e.type, e.data["participant_id"]) for e in new] == [
        ("ActiveCustomerSelected", "bob"),
        ("ActiveCustomerSelected", "dana"),
    ]
    assert {(e.correlation_id, e.causation_id, e.occurred_at) for e in new} == {
        (cause.correlation_id, cause.command_id, now)
    }
    assert len({e.event_id for e in new}) == 2
