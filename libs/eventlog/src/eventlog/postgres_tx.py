"""What runs a decision's statements on PostgreSQL: a REPEATABLE READ transaction
(``PostgresTransaction``), or, for a decision that writes once at its end, no transaction at
all (``PostgresDecision``, issue 19). Both read ahead what the decision will read, in one
statement, and answer its reads from that."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from eventlog.model import (
    NO_STREAM,
    Append,
    ConcurrencyConflict,
    Expected,
    Handling,
    NewEvent,
    satisfied,
)
from eventlog.postgres_schema import Connection
from eventlog.postgres_sql import Statements, append_events, append_streams, envelope_of
from eventlog.store import append_once_in
from support_contracts import Envelope


class _ReadAhead:
    """The streams read ahead, each from a version on, none appended to since."""

    def __init__(self, conn: Connection, sql: Statements) -> None:
        self._conn, self._sql = conn, sql
        self._read: dict[str, tuple[int, list[Envelope]]] = {}

    async def _ahead(
        self, statement: str, streams: Mapping[str, int], record: Handling | None
    ) -> bool:
        """The read ahead by ``statement`` (the transaction's or the decision's), kept for the
        reads to come; whether the command was new."""
        consumer, handled_id = record or (None, None)
        ids, versions = list(streams), list(streams.values())
        rows = await self._conn.fetch(statement, ids, consumer, handled_id, versions)
        read: dict[str, list[Envelope]] = {stream_id: [] for stream_id in streams}
        for row in rows:
            if row["stream_id"] is not None:
                read[row["stream_id"]].append(envelope_of(row))
        self._read.update((s, (streams[s], events)) for s, events in read.items())
        return bool(rows[0]["first"])

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]:
        first, known = self._read.get(stream_id, (None, []))
        if first is not None and from_version >= first:
            return [e for e in known if e.stream_version >= from_version]
        rows = await self._conn.fetch(self._sql.read_stream, stream_id, from_version)
        return [envelope_of(row) for row in rows]

    async def stream_version(self, stream_id: str) -> int:
        first, known = self._read.get(stream_id, (None, []))
        if known:
            return known[-1].stream_version
        if first == 0:
            return NO_STREAM
        version: int = await self._conn.fetchval(self._sql.stream_version, stream_id)
        return version


class PostgresTransaction(_ReadAhead):
    """A REPEATABLE READ transaction: its reads and its appends' version checks see one
    snapshot, taken before its transaction id exists (see ``eventlog.postgres``). That
    snapshot is why a stream read ahead can be answered from memory until this transaction
    appends to it: nobody else's commit can change what it reads."""

    def __init__(self, conn: Connection, sql: Statements) -> None:
        super().__init__(conn, sql)
        self._next_index = 0

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        self._read.pop(stream_id, None)
        recorded = await append_events(
            self._conn, self._sql, stream_id, events, expected_version, self._next_index
        )
        assert recorded is not None  # it is None only when appended once
        self._next_index += len(recorded)
        return recorded

    async def append_once(
        self, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
    ) -> list[Envelope] | None:
        if not events:  # the one statement records only with events
            return await append_once_in(self, stream_id, events, expected, once)
        self._read.pop(stream_id, None)
        recorded = await append_events(
            self._conn, self._sql, stream_id, events, expected, self._next_index, once
        )
        self._next_index += len(recorded or ())
        return recorded

    async def append_streams(self, appends: Sequence[Append]) -> list[list[Envelope]]:
        for a in appends:
            self._read.pop(a.stream_id, None)
        recorded = await append_streams(self._conn, self._sql, appends, self._next_index)
        self._next_index += sum(len(r) for r in recorded)
        return recorded

    async def read_ahead(self, streams: Mapping[str, int], record: Handling | None = None) -> bool:
        return await self._ahead(self._sql.read_ahead, streams, record)

    async def record_handled(self, consumer: str, event_id: UUID) -> bool:
        return bool(await self._conn.fetchval(self._sql.record_handled, consumer, event_id))

    async def save_checkpoint(self, name: str, position: int) -> None:
        await self._conn.execute(self._sql.save_checkpoint, name, position)


class PostgresDecision(_ReadAhead):
    """A decision's reads, then its one write, each a statement of its own that commits as it
    runs: no BEGIN and no COMMIT, two round trips where the transaction takes four. The write
    checks that every stream the decision read is still as it was read: a stream it appends to
    at the version read (whatever the append expected: ``StreamState.ANY`` too), one it only
    read by a look at its index for an event past that version; and it records the command
    the read ahead looked for, in the same statement. So the decision stands on what it read,
    as in a REPEATABLE READ transaction, and more strictly: a stream only read that moved
    since is a conflict here, where the transaction's snapshot would not have seen the move.

    For a decision that writes once, as its last step (``EventStore.decision``): a second write
    raises. A command read ahead as new and deciding nothing is recorded alone when the
    decision ends (``finish``), as the transaction would have committed its record."""

    def __init__(self, conn: Connection, sql: Statements) -> None:
        super().__init__(conn, sql)
        self._seen: dict[str, int] = {}  # every stream read: the version it was read at
        self._record: Handling | None = None  # the command's record, to write with the events
        self.wrote = False

    def _saw(self, stream_id: str, version: int) -> None:
        self._seen[stream_id] = max(version, self._seen.get(stream_id, NO_STREAM))

    def _read_from(self, stream_id: str, from_version: int, events: list[Envelope]) -> None:
        # read from a version on, nothing there: the stream ends before it (the caller folded
        # the rest already)
        self._saw(stream_id, events[-1].stream_version if events else from_version - 1)

    async def read_ahead(self, streams: Mapping[str, int], record: Handling | None = None) -> bool:
        new = await self._ahead(self._sql.read_ahead_unrecorded, streams, record)
        for stream_id, first in streams.items():
            self._read_from(stream_id, first, self._read[stream_id][1])
        if record is not None and new:
            self._record = record
        return new

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]:
        first, _ = self._read.get(stream_id, (None, []))
        events = await super().read_stream(stream_id, from_version)
        if first is None or from_version < first:  # not read ahead: read now
            self._read_from(stream_id, from_version, events)
        return events

    async def stream_version(self, stream_id: str) -> int:
        version = await super().stream_version(stream_id)
        self._saw(stream_id, version)
        return version

    async def append_streams(self, appends: Sequence[Append]) -> list[list[Envelope]]:
        if self.wrote:
            raise RuntimeError("a decision writes once; use a transaction to write more")
        written = {a.stream_id for a in appends if a.events}
        recorded = await append_streams(
            self._conn,
            self._sql,
            [self._at_read(a) for a in appends],
            0,
            unmoved={s: v for s, v in self._seen.items() if s not in written},
            record=self._record,
        )
        if written:
            self.wrote, self._record = True, None
            for stream_id in written:
                self._read.pop(stream_id, None)
        return recorded

    def _at_read(self, append: Append) -> Append:
        """The append at the version its stream was read at, if it was read: nothing written
        since. A stream read where the append does not expect it is a conflict already."""
        seen = self._seen.get(append.stream_id)
        if seen is None or not append.events:
            return append
        if not satisfied(append.expected, seen):
            raise ConcurrencyConflict(append.stream_id, append.expected, seen)
        return append._replace(expected=seen)

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        [recorded] = await self.append_streams([Append(stream_id, events, expected_version)])
        return recorded

    async def append_once(
        self, stream_id: str, events: Sequence[NewEvent], expected: Expected, once: Handling
    ) -> list[Envelope] | None:
        if not await self.record_handled(*once):
            return None
        return await self.append(stream_id, events, expected)

    async def record_handled(self, consumer: str, event_id: UUID) -> bool:
        """Looks for the record; a new one is written with the decision's write."""
        if self._record is not None:
            raise RuntimeError("a decision records one command")
        return await self.read_ahead({}, Handling(consumer, event_id))

    async def save_checkpoint(self, name: str, position: int) -> None:
        raise RuntimeError("a decision writes its events and its command's record, no more")

    async def finish(self) -> None:
        """The command's record, when no write carried it (the decision was to change nothing)."""
        if self._record is not None:
            await self._conn.execute(self._sql.record_handled, *self._record)
            self._record = None
