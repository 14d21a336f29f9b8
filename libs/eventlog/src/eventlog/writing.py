"""The one write recipe of every service (issue 15.2): load a stream, fold it, decide, stamp
what was decided with the cause's correlation and causation, append at the version the fold
had, and, when another writer got there first, do it all again on the new state.

``write_in`` is the recipe inside a transaction someone else owns (an inbox's, or a command's
that writes more than one stream); ``write`` runs it on its own and retries on a conflict. A
command applied once is recorded, in the same transaction as its events, under ``applied``: a
delivery of it again changes nothing and is told so (``Written.repeated``). Without
``applied``, ``write`` needs no transaction: one read and one append at the version read, which
the append checks (two round trips to PostgreSQL, not four). Marten's ``WriteToAggregate`` is
the shape.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from eventlog.conflicts import again, retrying
from eventlog.model import Append, Cause, Expected, Handling, NewEvent, StreamState, utc_now
from eventlog.store import EventStore, Transaction
from support_contracts import Envelope, Event


class Log(Protocol):
    """Where a write reads and appends: a transaction, or the store itself."""

    async def read_stream(self, stream_id: str, from_version: int = 0) -> list[Envelope]: ...

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]: ...


class Versioned(Protocol):
    """A fold of a stream: the version of the last event it folded (-1 for none)."""

    @property
    def version(self) -> int: ...


S = TypeVar("S", bound=Versioned)

Decide = Callable[[S], Sequence[Event] | Awaitable[Sequence[Event]]]
Follows = Callable[[S, Sequence[Event]], Sequence[tuple[str, Sequence[Event]]]]
"""What a decision on a stream means for others: each one's events."""


@dataclass(frozen=True)
class Stream(Generic[S]):
    """A stream and how it folds. ``load`` reads it whole; a stream that keeps what it read
    before (routing's agents) gives its own."""

    id: str
    fold: Callable[[list[Envelope]], S]
    load: Callable[[Log], Awaitable[S]] | None = field(default=None, compare=False)

    async def state(self, log: Log) -> S:
        if self.load is not None:
            return await self.load(log)
        return self.fold(await log.read_stream(self.id))


@dataclass(frozen=True)
class History:
    """The fold of a stream whose writer decides on its events as they are (an idempotency
    key's claims, the recordings of a session)."""

    events: list[Envelope]

    @property
    def version(self) -> int:
        return self.events[-1].stream_version if self.events else -1

    @property
    def last(self) -> Envelope | None:
        return self.events[-1] if self.events else None


@dataclass(frozen=True)
class Written(Generic[S]):
    """What a write did: the state it decided on, what it decided, and the events as recorded
    (none when the decision was to change nothing, or the command was applied before:
    ``repeated``)."""

    before: S
    decided: Sequence[Event] = ()
    recorded: list[Envelope] = field(default_factory=list)
    repeated: bool = False


async def write_in(
    tx: Transaction,
    stream: Stream[S],
    decide: Decide[S],
    cause: Cause,
    *,
    now: datetime,
    applied: str | None = None,
    reads: Mapping[str, int] | None = None,
    follows: Follows[S] | None = None,
) -> Written[S]:
    """The recipe in ``tx``: ``decide`` sees the stream as ``tx`` does and may refuse (raise);
    what it decides is appended at the version it saw, so a writer in between is a
    ``ConcurrencyConflict`` for the owner of ``tx`` to retry. The stream (unless it loads
    itself), the other streams ``decide`` will read (``reads``: each from a version on) and
    the record of the command (``applied``) are one round trip (``Transaction.read_ahead``);
    what the decision means for other streams (``follows``: their events, at any version) is
    appended with it, in one statement (``Transaction.append_streams``)."""
    record = None if applied is None else Handling(applied, cause.command_id)
    first = True
    if record is not None or reads:
        ahead = {} if stream.load is not None else {stream.id: 0}
        first = await tx.read_ahead({**ahead, **(reads or {})}, record)
    before = await stream.state(tx)
    if not first:
        return Written(before, repeated=True)
    if follows is None:
        return await _decided(tx, stream.id, before, decide, cause, now)
    events = await _decision(decide, before)
    if not events:
        return Written(before)
    appends = [Append(stream.id, NewEvent.caused(events, cause, now), before.version)]
    for other, more in follows(before, events):
        appends.append(Append(other, NewEvent.caused(more, cause, now), StreamState.ANY))
    recorded = await tx.append_streams(appends)
    return Written(before, events, recorded[0])


async def _decision(decide: Decide[S], before: S) -> Sequence[Event]:
    decided = decide(before)
    return await decided if isinstance(decided, Awaitable) else decided


async def _decided(
    log: Log, stream_id: str, before: S, decide: Decide[S], cause: Cause, now: datetime
) -> Written[S]:
    events = await _decision(decide, before)
    if not events:
        return Written(before)
    recorded = await log.append(stream_id, NewEvent.caused(events, cause, now), before.version)
    return Written(before, events, recorded)


async def write(
    store: EventStore,
    stream: Stream[S],
    decide: Decide[S],
    cause: Cause,
    *,
    clock: Callable[[], datetime] = utc_now,
    applied: str | None = None,
    attempts: int = 8,
) -> Written[S]:
    """The recipe on its own, again on the new state while another writer got there first
    (``attempts`` times; the last conflict is raised)."""
    if applied is not None:  # the command's record and its events commit together

        async def once(tx: Transaction) -> Written[S]:
            return await write_in(tx, stream, decide, cause, now=clock(), applied=applied)

        return await retrying(store, once, attempts=attempts)

    async def read_and_append() -> Written[S]:
        return await _decided(store, stream.id, await stream.state(store), decide, cause, clock())

    return await again(read_and_append, attempts=attempts)
