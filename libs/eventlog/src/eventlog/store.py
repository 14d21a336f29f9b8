"""The event log's one API, implemented by PostgreSQL and in memory alike.

Positions: ``stream_version`` counts 0, 1, 2, ... within a stream; ``global_position`` only
grows within one log, and :meth:`EventStore.read_all` returns events in that order without
ever skipping one that commits late (see ``postgres.py`` for how).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from eventlog.model import (
    Append,
    ConcurrencyConflict,
    Expected,
    Handling,
    Lease,
    NewEvent,
    satisfied,
)
from support_contracts import Envelope


class Transaction(Protocol):
    """Everything done through one transaction commits together or not at all."""

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        """Append where ``expected_version`` says the stream is: at a version (``NO_STREAM``
        for none yet), or a ``StreamState`` (``ANY`` for no check). A mismatch raises
        :class:`ConcurrencyConflict`."""
        ...

    async def append_once(
        self, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
    ) -> list[Envelope] | None:
        """:meth:`append`, and the inbox's record ``once`` (a consumer handled an event or a
        command), in one statement; None, with nothing written, if it was recorded before."""
        ...

    async def append_streams(self, appends: Sequence[Append]) -> list[list[Envelope]]:
        """:meth:`append` to several streams at once (each once), all or none: each stream's
        events as recorded, in the order given; a stream not at its expected version raises
        :class:`ConcurrencyConflict`. One statement on PostgreSQL."""
        ...

    async def read_ahead(self, streams: Mapping[str, int], record: Handling | None = None) -> bool:
        """Reads the streams a decision will read, each from the version given on (0: whole;
        a caller that keeps an older fold of one reads only what came after), at once, for
        :meth:`read_stream` and
        :meth:`stream_version` to answer from until this transaction appends to one; with
        ``record``, the inbox's record that a consumer handled a command, in the same round
        trip: False if it was recorded before (:meth:`record_handled`)."""
        ...

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]: ...

    async def stream_version(self, stream_id: str) -> int:
        """The version of the stream's last event as this transaction sees it (its own appends
        included), or ``NO_STREAM``: one lookup, not a read of the stream."""
        ...

    async def record_handled(self, consumer: str, event_id: UUID) -> bool:
        """The inbox: True the first time ``consumer`` handles ``event_id``, False after."""
        ...

    async def save_checkpoint(self, name: str, position: int) -> None: ...


class EventStore(Protocol):
    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        """One append in its own transaction."""
        ...

    async def append_once(
        self, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
    ) -> list[Envelope] | None:
        """One append in its own transaction, with the inbox's record ``once`` (a consumer
        handled a command): None, and nothing written, if that was recorded before. A version
        mismatch raises :class:`ConcurrencyConflict`, recording nothing. What a transaction's
        ``record_handled`` and ``append`` do, in one round trip."""
        ...

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]: ...

    async def read_all(self, after_position: int = -1, limit: int = 1000) -> list[Envelope]:
        """Events after ``after_position`` in global order, only as far as no event of a
        transaction still running could land before them."""
        ...

    async def stream_version(self, stream_id: str) -> int:
        """The version of the stream's last event, or ``NO_STREAM``."""
        ...

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    def decision(self) -> AbstractAsyncContextManager[Transaction]:
        """What a decision that writes once, as its last step, runs in: its reads, then one
        write (``append_streams``, or one ``append``) that commits it, with the command's
        record if it read one ahead; a stream it read that another writer moved since is a
        :class:`ConcurrencyConflict`, as in a transaction. On PostgreSQL without BEGIN and
        COMMIT (issue 19: two round trips where a transaction takes four): its writes are not
        taken back by a failure after them, so the write must come last."""
        ...

    async def forget_handled(self, before: datetime, limit: int = 10_000) -> int:
        """Drops the inbox's records of what was handled before ``before``; how many."""
        ...

    async def load_checkpoint(self, name: str) -> int:
        """How far the reader ``name`` got (-1 before its first event)."""
        ...

    async def save_checkpoint(self, name: str, position: int) -> None: ...

    async def load_snapshot(self, name: str) -> tuple[int, bytes] | None:
        """The view ``name`` saved, and the position it was folded to; None if none was."""
        ...

    async def save_snapshot(self, name: str, position: int, state: bytes) -> None:
        """Keep ``state`` as the view ``name`` folded up to ``position``, unless one of a later
        position is kept already (replicas folding the same log may save the same view)."""
        ...

    async def wait_for_events(self, after_position: int, at_most_seconds: float) -> None:
        """Return soon after an event past ``after_position`` may be readable, or after
        ``at_most_seconds``."""
        ...

    def exclusive(self, name: str, poll_seconds: float = 1.0) -> AbstractAsyncContextManager[Lease]:
        """Held by one process at a time across every replica sharing this log; a waiter
        tries again every ``poll_seconds``. The lease says when the lock was lost."""
        ...

    async def ready(self) -> None:
        """Raises unless the log answers, ready for this code (its migrations applied)."""
        ...

    async def head(self) -> int:
        """The position of the last event recorded, or -1."""
        ...

    async def close(self) -> None: ...


async def append_once_in(
    tx: Transaction, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
) -> list[Envelope] | None:
    """:meth:`EventStore.append_once` in ``tx``, a step at a time: the version checked first,
    then the record, then the events (no events: the record alone)."""
    actual = await tx.stream_version(stream_id)
    if not satisfied(expected, actual):
        raise ConcurrencyConflict(stream_id, expected, actual)
    if not await tx.record_handled(*once):
        return None
    return await tx.append(stream_id, events, expected)
