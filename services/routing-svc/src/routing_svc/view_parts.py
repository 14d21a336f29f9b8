"""The pieces of routing's view: the waiting order, an agent as the view sees it, a session's
standing, the offers the router decided for one session."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from routing_svc.domain.state import Task, spent_until, state_keys
from support_contracts.routing import (
    OfferMade,
    WrapUpStarted,
)
from support_contracts.vocabulary import AgentStatus

HANDLING_SAMPLES = 20
"""How many of a queue's last finished sessions the estimated wait is taken from (R5)."""

Key = tuple[datetime, int, UUID]
"""Where a waiting session stands: (queued at, log position of its TaskQueued, session)."""


class Ordered:
    """Keys kept sorted: oldest first, rank in O(log n) (inserts move memory, which for the
    thousands of sessions a queue may hold costs microseconds)."""

    def __init__(self) -> None:
        self.keys: list[Key] = []

    def add(self, key: Key) -> None:
        at = bisect.bisect_left(self.keys, key)
        if at == len(self.keys) or self.keys[at] != key:
            self.keys.insert(at, key)

    def discard(self, key: Key) -> None:
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            del self.keys[at]

    def rank(self, key: Key) -> int:
        return bisect.bisect_left(self.keys, key)

    def __len__(self) -> int:
        return len(self.keys)

    def __iter__(self) -> Iterator[Key]:
        return iter(self.keys)


class Timers:
    """Deadlines, soonest first: waiting sessions' (an offer expiring, escalation, overflow,
    R18's window) and wrap-ups' (R11). A timer only says when to look again: each due one is
    given once, and whoever asked checks it still stands (a stale one finds nothing)."""

    def __init__(self) -> None:
        self._sessions: list[tuple[datetime, int, UUID]] = []
        self._wrap_ups: list[tuple[datetime, int, str, UUID]] = []  # agent, session
        self._seq = 0

    def session_at(self, when: datetime, session_id: UUID) -> None:
        self._seq += 1
        heapq.heappush(self._sessions, (when, self._seq, session_id))

    def wrap_up_at(self, when: datetime, agent_id: str, session_id: UUID) -> None:
        self._seq += 1
        heapq.heappush(self._wrap_ups, (when, self._seq, agent_id, session_id))

    def due_sessions(self, now: datetime) -> list[UUID]:
        """The sessions with a deadline before ``now``, each once."""
        due: dict[UUID, None] = {}
        while self._sessions and self._sessions[0][0] < now:
            due[heapq.heappop(self._sessions)[2]] = None
        return list(due)

    def due_wrap_ups(self, now: datetime) -> list[tuple[str, UUID]]:
        """The wrap-ups (agent, session) whose time ran out by ``now``, each once."""
        due: dict[tuple[str, UUID], None] = {}
        while self._wrap_ups and self._wrap_ups[0][0] <= now:
            _, _, agent_id, session_id = heapq.heappop(self._wrap_ups)
            due[agent_id, session_id] = None
        return list(due)

    def next(self) -> datetime | None:
        heads = [t[0][0] for t in (self._sessions, self._wrap_ups) if t]
        return min(heads) if heads else None


@dataclass
class AgentView:
    id: str
    name: str = ""
    capacity: int = 1
    configured: bool = False
    status: AgentStatus = AgentStatus.OFFLINE
    sessions: set[UUID] = field(default_factory=set)
    offers: dict[UUID, UUID] = field(default_factory=dict)  # open offer -> its session
    free_since: datetime | None = None
    reason: str | None = None  # R12: why away or offline
    since: datetime | None = None  # R12: when its state began
    spent: dict[str, float] = field(default_factory=dict)  # R12: seconds, before ``since``
    missed: int = 0  # R13: offers of queues it let expire in a row
    missed_limit: int | None = None  # R13: the queue's limit, of the last it let expire
    missed_cause: tuple[UUID, UUID] | None = None  # R13: that offer, and its correlation id
    # R11: sessions it wraps up (each a slot taken): how, and the correlation id
    wrap_ups: dict[UUID, tuple[WrapUpStarted, UUID]] = field(default_factory=dict)
    skills: dict[str, int] = field(default_factory=dict)  # R9: proficiency, 1-5
    set_away_at: int | None = None  # R13: the router's away, at this version, not read back

    @property
    def not_responding(self) -> bool:
        """R13: available, and it let as many offers in a row expire as the queue allows."""
        limit = self.missed_limit
        return self.status is AgentStatus.AVAILABLE and limit is not None and self.missed >= limit

    def time_in_state(self, now: datetime) -> dict[str, float]:
        return spent_until(self.spent, state_keys(self.status, self.reason), self.since, now)

    @property
    def wrapping(self) -> list[WrapUpStarted]:
        """R11: its wrap-ups, the first to end first."""
        return sorted((w for w, _ in self.wrap_ups.values()), key=lambda w: w.until)

    @property
    def load(self) -> int:
        return len(self.sessions) + len(self.offers) + len(self.wrap_ups)

    @property
    def offerable(self) -> bool:
        """Available as routing sees it: not while it is to be set away, not responding (R13),
        so no offer is made to it before the log has that change; nor once the router has set
        it away, until the view reads that back (the log holds an event back while an older
        transaction runs: the router offered an agent work 70 ms after setting it away so,
        in issue 18's race test)."""
        return (
            self.status is AgentStatus.AVAILABLE
            and not self.not_responding
            and self.set_away_at is None
        )

    @property
    def eligible(self) -> bool:
        return self.configured and self.offerable and self.load < self.capacity


@dataclass(frozen=True)
class Standing:
    """R5: a waiting session's place in its queue (1 is next) and the estimated wait."""

    session_id: UUID
    queue_id: UUID | None
    position: int | None
    waiting: int
    estimated_wait_seconds: float | None


@dataclass
class Offering:
    """Offers the router decided for one session, to be recorded in one append."""

    session_id: UUID
    before: Task
    events: list[OfferMade] = field(default_factory=list)
