"""One recipe for every session command: load the session (and the settings the rule reads),
fold, decide, append with the expected versions; retry on a conflict, which re-reads the new
state. What a decision changes beyond the session's own stream is written in the same
statement: the csr ledger (S2) and the session number (S1). The reads are one statement and the
write another, with no transaction around them (``EventStore.decision``, issue 19): the write
checks that no stream read has moved since, as a REPEATABLE READ transaction would, and
more strictly. Events reach RabbitMQ only through the outbox relay of the log.

Every command is applied once: its id is recorded in the same statement as its events, so a
command delivered again (a replica that died between its commit and its acknowledgement, a
gateway retrying a request) changes nothing and is answered with the session as it is; what it
created has ids derived from the command's id, so that answer is the first one's."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid5
from weakref import WeakSet

from eventlog import (
    EventStore,
    NewEvent,
    Stream,
    StreamState,
    Transaction,
    retrying,
    utc_now,
    write_in,
)
from session_svc.domain import Csr, Session, StateForbids, Status, apply, fold, fold_csr, fold_site
from session_svc.domain.errors import NotFound
from session_svc.domain.settings import SITE_STREAM, control_changes, csr_stream
from session_svc.live import LiveSessions
from support_contracts import Command, Envelope, Event
from support_contracts.session import (
    AmendCsrSettings,
    ChangeCsrSettings,
    ChangeSiteSettings,
    CsrSettingsChanged,
    NumberReleased,
    NumberReserved,
    SessionRequested,
    SessionStarted,
    SiteSettings,
    SiteSettingsChanged,
)

CONFLICT_RETRIES = 8
CSRS_REMEMBERED = 10_000  # the csrs' folds a replica keeps, the least recently read dropped
NO_CSR = Csr()
COMMANDS_HANDLED = "commands"  # the inbox's record of every command applied, by command id
NUMBER_TRIES = 20

Decision = Callable[[Session, Transaction], Awaitable[list[Event]]]
Reads = Mapping[str, int]  # a stream a decision reads, from this version on


def session_stream(session_id: UUID) -> str:
    return f"session-{session_id}"


def number_stream(number: str) -> str:
    return f"number-{number}"


def random_session_number() -> str:
    """Nine digits, not guessable from the last one (S1); no leading zero to lose."""
    return str(10**8 + secrets.randbelow(9 * 10**8))


@dataclass(frozen=True)
class Outcome:
    session: Session
    recorded: list[Envelope]


class SessionLog:
    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        new_number: Callable[[], str] = random_session_number,
        snapshot_every: int = 10_000,
    ) -> None:
        self.store, self._clock, self._new_number = store, clock, new_number
        # every session not ended, folded from the log: R17's list, S4's watch
        self.sessions = LiveSessions(store, snapshot_every=snapshot_every)
        self._csrs: OrderedDict[str, Csr] = OrderedDict()  # ``csr``
        # the decisions `run` opened: what they read is committed
        self._own: WeakSet[Transaction] = WeakSet()

    async def run(
        self, cmd: Command, session_id: UUID, decide: Decision, reads: Reads | None = None
    ) -> Outcome:
        """The recipe on its own, retried when another writer got there first: its reads, then
        one write, no transaction around them (``EventStore.decision``: the write checks that
        nothing it read moved). ``reads``: the streams besides the session's that ``decide``
        reads, read with it."""

        async def once(tx: Transaction) -> Outcome:
            self._own.add(tx)
            return await self.decide_and_record(tx, cmd, session_id, decide, reads)

        return await retrying(self.store, once, attempts=CONFLICT_RETRIES, decision=True)

    async def decide_and_record(
        self,
        tx: Transaction,
        cmd: Command,
        session_id: UUID,
        decide: Decision,
        reads: Reads | None = None,
    ) -> Outcome:
        """The recipe inside a transaction someone else owns (the inbox's), and what follows
        from the session's change in the csr's ledger and the number's stream."""
        now = self._clock()

        async def decided(before: Session) -> list[Event]:
            return await decide(before, tx)

        after: Session | None = None  # the session once decided, folded once

        def follows(before: Session, events: Sequence[Event]) -> list[tuple[str, list[Event]]]:
            nonlocal after
            after = apply(before, list(events), now)
            return what_follows(before, after, events)

        stream = Stream(session_stream(session_id), fold)
        written = await write_in(
            tx, stream, decided, cmd,
            now=now, applied=COMMANDS_HANDLED, reads=reads, follows=follows,
        )  # fmt: skip
        if not written.recorded:
            return Outcome(written.before, [])
        assert after is not None  # what was recorded was decided, and ``follows`` saw it
        return Outcome(after, written.recorded)

    # --- what a decision reads ------------------------------------------------------------------

    async def site(self, tx: Transaction) -> SiteSettings:
        return fold_site(await tx.read_stream(SITE_STREAM))

    async def csr(self, tx: Transaction, csr_id: str) -> Csr:
        """The csr's settings and ledger: the fold this replica kept, on with what came
        after it (a csr's ledger grows by two events a session, and read whole it cost a start
        more with every session the csr ever ran). A fold of committed events stays true, so
        it is kept when read in a decision ``run`` opened, which reads only what is committed;
        not in another's transaction (the inbox's, which may have appended to the stream for
        an event before, and may yet roll back)."""
        known = self._csrs.get(csr_id, NO_CSR)
        csr = fold_csr(await tx.read_stream(csr_stream(csr_id), known.version + 1), known)
        if tx in self._own:
            self._csrs[csr_id] = csr
            self._csrs.move_to_end(csr_id)
            if len(self._csrs) > CSRS_REMEMBERED:
                self._csrs.popitem(last=False)
        return csr

    def reads(self, *, site: bool = False, csrs: Iterable[str] = (), number: str = "") -> Reads:
        """The streams a decision reads, for ``run`` to read with the session: a csr's from
        after the fold this replica kept."""
        wanted = {SITE_STREAM: 0} if site else {}
        for csr_id in csrs:
            wanted[csr_stream(csr_id)] = self._csrs.get(csr_id, NO_CSR).version + 1
        if number:
            wanted[number_stream(number)] = 0
        return wanted

    def new_number(self) -> str:
        """A number to try first, its stream read ahead with the session's (``free_number``)."""
        return self._new_number()

    async def free_number(self, tx: Transaction, first: str | None = None) -> str:
        for tried in range(NUMBER_TRIES):
            number = first if tried == 0 and first is not None else self._new_number()
            held = await tx.read_stream(number_stream(number))
            if not held or held[-1].type == NumberReleased.event_type():
                return number
        raise StateForbids("no_free_number", "no free session number right now; try again")

    def id_for(self, cmd: Command, what: str) -> UUID:
        """The id of what ``cmd`` creates (a session, a participant, an activity): the same
        for a redelivery of the command, so its answer is the first one's."""
        return uuid5(cmd.command_id, what)

    def now(self) -> datetime:
        return self._clock()

    async def _append_to(
        self, tx: Transaction, stream: str, cmd: Command, events: Sequence[Event], now: datetime
    ) -> list[Envelope]:
        # at the end of the stream as the transaction sees it: another writer's append since
        # is a conflict all the same, and asking for the version first cost a round trip
        return await tx.append(stream, NewEvent.caused(events, cmd, now), StreamState.ANY)

    # --- settings (admin) -----------------------------------------------------------------------

    async def change_site_settings(self, cmd: ChangeSiteSettings) -> SiteSettings:
        async with self.store.transaction() as tx:
            changed = [SiteSettingsChanged(settings=cmd.settings)]
            await self._append_to(tx, SITE_STREAM, cmd, changed, self._clock())
        return cmd.settings

    async def change_csr_settings(self, cmd: ChangeCsrSettings) -> Csr:
        async with self.store.transaction() as tx:
            changed = [CsrSettingsChanged(csr_id=cmd.csr_id, settings=cmd.settings)]
            await self._append_to(tx, csr_stream(cmd.csr_id), cmd, changed, self._clock())
            return await self.csr(tx, cmd.csr_id)

    async def amend_csr_settings(self, cmd: AmendCsrSettings) -> Csr:
        """The settings the command gives, the others as they were (a csr never set up has the
        defaults); nothing is recorded when nothing changes."""
        given = {
            "session_mode": cmd.session_mode,
            "is_webacd_agent": cmd.is_webacd_agent,
            "voice_supported": cmd.voice_supported,
        }

        async def once(tx: Transaction) -> Csr:
            csr = await self.csr(tx, cmd.csr_id)
            amended = csr.settings.model_copy(
                update={k: v for k, v in given.items() if v is not None}
            )
            if amended == csr.settings:
                return csr
            changed = [CsrSettingsChanged(csr_id=cmd.csr_id, settings=amended)]
            await self._append_to(tx, csr_stream(cmd.csr_id), cmd, changed, self._clock())
            return await self.csr(tx, cmd.csr_id)

        return await retrying(self.store, once)

    # --- queries --------------------------------------------------------------------------------

    async def session(self, session_id: UUID) -> Session:
        state = fold(await self.store.read_stream(session_stream(session_id)))
        if state.status is Status.NEW:
            raise NotFound("unknown_session", "there is no such session")
        return state

    async def session_events(self, session_id: UUID) -> list[Envelope]:
        await self.session(session_id)
        return await self.store.read_stream(session_stream(session_id))

    async def session_by_number(self, number: str) -> Session:
        """The live session with the number; 409 ``session_ended`` while the number's last
        session has ended and no other holds it yet (issue 14.8: the digits were right)."""
        return await self.session(await self.session_id_by_number(number))

    async def session_id_by_number(self, number: str) -> UUID:
        """The id alone, for a command that reads the session in its own transaction: the
        number is reserved in the transaction that starts the session, so it exists."""
        held = await self.store.read_stream(number_stream(number))
        if held and held[-1].type == NumberReleased.event_type():
            raise StateForbids("session_ended", "the session with that number has ended")
        if not held or held[-1].type != NumberReserved.event_type():
            raise NotFound("unknown_number", "no live session has that number; check the digits")
        return UUID(held[-1].data["session_id"])


def what_follows(
    before: Session, after: Session, events: Sequence[Event]
) -> list[tuple[str, list[Event]]]:
    """What a session's change writes besides the session, in the same statement: the
    ledgers of the csrs whose control it moved (S2), and S1's number, reserved by a new
    session and freed by an ended one."""
    written = [(csr_stream(c), ledger) for c, ledger in control_changes(before, after).items()]
    assert after.id is not None and after.number is not None
    if any(isinstance(e, SessionStarted | SessionRequested) for e in events):
        written.append((number_stream(after.number), [NumberReserved(session_id=after.id)]))
    elif after.status is Status.ENDED and before.status is not Status.ENDED:
        written.append((number_stream(after.number), [NumberReleased(session_id=after.id)]))
    return written
