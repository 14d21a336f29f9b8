"""The append-only event log of every service, with its outbox relay and inbox."""

from eventlog.conflicts import retrying
from eventlog.follow import follow, follow_batches
from eventlog.inbox import Handler, Inbox, Verdict
from eventlog.leadership import lead
from eventlog.memory import InMemoryEventStore
from eventlog.memory_broker import InMemoryBroker, topic_matches
from eventlog.model import (
    NO_STREAM,
    ConcurrencyConflict,
    DuplicateEvent,
    Handling,
    LockLost,
    NewEvent,
    StreamState,
    utc_now,
)
from eventlog.relay import EventPublisher, OutboxRelay
from eventlog.store import EventStore, Transaction
from eventlog.turns import at_most, keep_turning, stop
from eventlog.writing import Stream, Written, write, write_in

__all__ = [
    "NO_STREAM",
    "ConcurrencyConflict",
    "DuplicateEvent",
    "EventPublisher",
    "EventStore",
    "Handler",
    "Handling",
    "InMemoryBroker",
    "InMemoryEventStore",
    "Inbox",
    "LockLost",
    "NewEvent",
    "OutboxRelay",
    "Stream",
    "StreamState",
    "Transaction",
    "Verdict",
    "Written",
    "at_most",
    "follow",
    "follow_batches",
    "keep_turning",
    "lead",
    "retrying",
    "stop",
    "topic_matches",
    "utc_now",
    "write",
    "write_in",
]
