"""The inbox: each event handled once per consumer, with bounded retries and a dead letter.

Only an event that fails on its own is dead-lettered: while the database or the broker does
not answer (``is_outage``), the same event is tried again, without counting, until it does.

The record that ``consumer`` handled ``event_id`` commits in the same transaction as
whatever the handler wrote, so a redelivered event finds it and is skipped, and a handler
that fails leaves neither behind. A consumer whose handler appends at most once and for which
writing nothing is idempotent (the relay's copy of the session events) may have the record
written by that append, in its statement (``record_in_append``): one round trip an event
instead of two (issue 19); its handler then sees a repeat as an append that wrote nothing.
Such an event, delivered alone, needs no transaction either: the one statement commits as it
runs, so its handler works on the store itself (one round trip, not BEGIN, the append and
COMMIT: three; measured alone, 400-500 µs of the consumer's CPU an event to 260, and
PostgreSQL's 320 to 220). Its append must then be its last step: what fails after it is not
taken back. Events that arrived together still share one transaction, one commit.

Events of the types in ``look_first`` are first given to the handler on the store with every
write refused: when it writes nothing (routing-svc told of the end of a session it never
routed: most sessions), the event is handled there, one read and no transaction, and nothing
records it, since handling it again writes nothing again; when it would write, it is handled
as any other, in the inbox's transaction. The handler must have no effect but its writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

import structlog

from eventlog.conflicts import again, retrying
from eventlog.model import Expected, Handling, NewEvent, utc_now
from eventlog.outages import is_outage
from eventlog.store import EventStore, Transaction
from eventlog.turns import keep_turning
from support_contracts import Envelope

log = structlog.get_logger(__name__)

Handler = Callable[[Envelope, Transaction], Awaitable[None]]

CONFLICT_RETRIES = 5
OUTAGE_RETRY_MOST_SECONDS = 5.0


@dataclass(frozen=True)
class Verdict:
    """What a transport does with a delivery: ack it, or dead-letter it with the error."""

    handled: bool
    error: str | None = None
    attempts: int = 1

    @property
    def dead(self) -> bool:
        return self.error is not None


class _RecordedByAppend:
    """A transaction whose appends carry the inbox's record of the event being handled (one
    for all the events a transaction handles, each in turn); or the store itself, where each
    append commits as it runs."""

    def __init__(self, tx: Transaction | EventStore, consumer: str) -> None:
        self._tx, self._consumer = tx, consumer
        self._event_id: UUID | None = None
        self.repeated = False

    def handling(self, event_id: UUID) -> _RecordedByAppend:
        self._event_id, self.repeated = event_id, False
        return self

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> list[Envelope]:
        assert self._event_id is not None
        once = Handling(self._consumer, self._event_id)
        recorded = await self._tx.append_once(stream_id, events, expected_version, once)
        self.repeated = recorded is None
        return recorded or []

    async def append_streams(self, *args: Any) -> Any:
        raise TypeError("a record_in_append handler appends to one stream at a time")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tx, name)  # reads and the rest, as they are


class _WouldWrite(Exception):
    """A handler looked at first would write: it runs again in a transaction."""


class _Looking:
    """The store as a handler looked at first sees it: its reads as they are, no writes."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def append(self, *args: Any, **kwargs: Any) -> Any:
        raise _WouldWrite

    append_once = append_streams = record_handled = save_checkpoint = append

    async def read_ahead(self, streams: Mapping[str, int], record: Handling | None = None) -> bool:
        if record is not None:
            raise _WouldWrite
        return True  # the store's reads go to the log each time

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class Inbox:
    def __init__(
        self,
        store: EventStore,
        consumer: str,
        handler: Handler,
        *,
        max_attempts: int = 5,
        record_in_append: bool = False,
        look_first: frozenset[str] = frozenset(),
    ) -> None:
        self._store, self.consumer, self._handler = store, consumer, handler
        self.max_attempts = max_attempts
        self.record_in_append, self.look_first = record_in_append, look_first
        self.waiting_out = False  # an outage (database, broker) is being waited out

    def _in(self, tx: Transaction) -> Transaction:
        """The transaction as the handler sees it."""
        return (
            cast(Transaction, _RecordedByAppend(tx, self.consumer)) if self.record_in_append else tx
        )

    async def _handled_alone(self, envelope: Envelope) -> bool:
        """A ``record_in_append`` handler on the store: its one append, and the record with
        it, commit in their statement."""
        on_store = _RecordedByAppend(self._store, self.consumer)
        return await self._handled_in(cast(Transaction, on_store), envelope)

    async def _handled_in(self, tx: Transaction, envelope: Envelope) -> bool:
        """The handler run in ``tx`` (as ``_in`` gave it) unless this consumer handled the
        event before; whether it was new."""
        if isinstance(tx, _RecordedByAppend):
            await self._handler(envelope, cast(Transaction, tx.handling(envelope.event_id)))
            return not tx.repeated
        if not await tx.record_handled(self.consumer, envelope.event_id):
            return False
        await self._handler(envelope, tx)
        return True

    async def _needs_nothing(self, envelope: Envelope) -> bool:
        """Whether the handler, given ``envelope`` with its writes refused, writes nothing (an
        event of a type in ``look_first``)."""
        if envelope.type not in self.look_first:
            return False
        try:
            await self._handler(envelope, cast(Transaction, _Looking(self._store)))
        except Exception:  # it would write (_WouldWrite); or it failed: its own path meets that
            return False
        return True

    async def handle(self, envelope: Envelope, *, looked: bool = False) -> bool:
        """True if handled now, False if this consumer had handled it before (an event that
        needs nothing, nothing records: it is handled now each time). A conflict on a stream
        the handler appends to is retried at once in a fresh transaction. ``looked``: the
        handler was given the event first already (``look_first``) and would write."""
        if not looked and await self._needs_nothing(envelope):
            return True
        if self.record_in_append:
            return await again(lambda: self._handled_alone(envelope), attempts=CONFLICT_RETRIES)

        async def once(tx: Transaction) -> bool:
            return await self._handled_in(self._in(tx), envelope)

        return await retrying(self._store, once, attempts=CONFLICT_RETRIES)

    async def deliver_many(self, deliveries: list[tuple[Envelope, int]]) -> list[Verdict]:
        """Deliveries (each with its ``first_attempt``) handled in one transaction, in order:
        one commit for all of them, which is what lets a busy consumer keep up. If any fails,
        nothing of the batch stays, and each is delivered on its own (retries and dead letter
        as in :meth:`deliver`). Those first in line that need nothing (``look_first``) are
        handled before it, each on its own: one that follows an event of the batch that writes
        is not, as it might need what that event writes."""
        if len(deliveries) == 1 or any(a > 1 for _, a in deliveries):
            return [await self.deliver(e, a) for e, a in deliveries]
        nothing = 0
        while nothing < len(deliveries) and await self._needs_nothing(deliveries[nothing][0]):
            nothing += 1
        rest = deliveries[nothing:]
        return [Verdict(handled=True)] * nothing + (await self._in_one_transaction(rest))

    async def _in_one_transaction(self, deliveries: list[tuple[Envelope, int]]) -> list[Verdict]:
        """``deliver_many``'s transaction, for what is left once the first delivery of it was
        looked at (``_needs_nothing``) and would write."""
        if len(deliveries) <= 1:
            return [await self.deliver(e, a, looked=True) for e, a in deliveries]

        trying = 0  # the delivery whose handler runs now: if it fails, it had one try

        async def once(tx: Transaction) -> list[bool]:
            nonlocal trying
            handled = []
            tx = self._in(tx)
            for n, (envelope, _) in enumerate(deliveries):
                trying = n
                handled.append(await self._handled_in(tx, envelope))
            return handled

        try:
            handled = await retrying(self._store, once, attempts=CONFLICT_RETRIES)
        except Exception as error:
            log.warning("inbox.batch_failed", consumer=self.consumer, error=repr(error))
            return [
                await self.deliver(e, a + 1 if n == trying else a)
                for n, (e, a) in enumerate(deliveries)
            ]
        return [Verdict(handled=h) for h in handled]

    async def deliver(
        self, envelope: Envelope, first_attempt: int = 1, *, looked: bool = False
    ) -> Verdict:
        """Handle a delivery, retrying in place with a growing delay (so the events behind it
        keep their order) until ``max_attempts`` tries in all; ``first_attempt`` counts the
        tries of earlier deliveries, e.g. before a crash."""
        bound = log.bind(
            consumer=self.consumer,
            event_id=str(envelope.event_id),
            correlation_id=str(envelope.correlation_id),
        )
        attempt = first_attempt
        if attempt > self.max_attempts:  # earlier deliveries died mid-way (a crash, a kill)
            reason = f"not finished in {attempt - 1} deliveries"
            bound.error("inbox.gave_up", error=reason)
            return Verdict(handled=False, error=reason, attempts=attempt - 1)
        outage = 0
        while True:
            try:
                handled = await self.handle(envelope, looked=looked)
            except Exception as error:
                reason = f"{type(error).__name__}: {error}"
                if is_outage(error):  # not the event's fault: wait the outage out, uncounted
                    outage += 1
                    self.waiting_out = True
                    bound.warning("inbox.outage", error=reason, tries=outage)
                    await asyncio.sleep(retry_delay(outage, most=OUTAGE_RETRY_MOST_SECONDS))
                    continue
                retry = attempt < self.max_attempts
                bound.warning("inbox.failed", error=reason, attempt=attempt, will_retry=retry)
                if not retry:
                    return Verdict(handled=False, error=reason, attempts=attempt)
                await asyncio.sleep(retry_delay(attempt))
                attempt += 1
                continue
            self.waiting_out = False
            if not handled:
                bound.info("inbox.duplicate_skipped")
            return Verdict(handled=handled, attempts=attempt)


def retry_delay(attempt: int, *, base: float = 0.05, most: float = 2.0) -> float:
    return float(min(most, base * 2 ** (attempt - 1)))


async def forgetting(
    store: EventStore,
    *,
    keep: timedelta,
    every_seconds: float = 3600.0,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Issue 13: the inbox's records (events handled, commands applied) kept for ``keep``, then
    forgotten, a batch at a time, until cancelled. Every replica may sweep (a record two delete
    at once goes once), so no lock and no connection of its own are needed. A redelivery comes
    within minutes; one older than ``keep`` (a dead letter re-driven after it, say) would be
    handled again."""

    async def turn() -> None:
        while forgotten := await store.forget_handled(clock() - keep):
            log.info("inbox.forgotten", records=forgotten)
        await asyncio.sleep(every_seconds)

    await keep_turning(turn, failed="inbox.forgetting_retrying", retry_seconds=every_seconds)
