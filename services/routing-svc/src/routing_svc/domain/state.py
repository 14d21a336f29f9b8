"""A routing task (a session handed off or requested) and its offers; an agent, the sessions it
holds and the time it spent in each state: the states, and how each folds from its stream (R3,
R4, R6, R12)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import singledispatch
from uuid import UUID

from support_contracts import Envelope, Event, routing
from support_contracts.vocabulary import AgentStatus


class TaskStatus(StrEnum):
    NEW = "new"
    WAITING = "waiting"
    ASSIGNED = "assigned"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class Offer:
    id: UUID
    agent_id: str
    expires_at: datetime
    open: bool = True
    recorded: bool = True  # False while only the router's view has it (see view.reserve)


@dataclass(frozen=True)
class Task:
    """The session's current routing task; a new hand-off of the same session starts a new one
    (offers, declines and escalation begin afresh)."""

    id: UUID | None = None
    session_id: UUID | None = None
    queue_id: UUID | None = None
    named_agents: tuple[str, ...] = ()
    status: TaskStatus = TaskStatus.NEW
    queued_at: datetime | None = None
    message: str | None = None
    request_id: UUID | None = None
    priority: int = 5  # R10: 1 first
    preferred_agent: str | None = None  # R18: offered first, for the queue's time
    overflow_queue_id: UUID | None = None  # R14: offered in this queue too
    skills: tuple[str, ...] = ()  # R9: needed besides the queue's (the hand-off's or the form's)
    correlation_id: UUID | None = None
    cause: UUID | None = None  # the TaskQueued event, which causes the offers
    escalated: bool = False
    offers: dict[UUID, Offer] = field(default_factory=dict)
    declined: frozenset[str] = frozenset()
    passed: frozenset[str] = frozenset()  # let an offer expire
    assigned_to: str | None = None
    accepted_offer: UUID | None = None
    version: int = -1

    def open_offers(self) -> list[Offer]:
        return [o for o in self.offers.values() if o.open]

    def excluded(self) -> set[str]:
        """R4: never who declined it; not twice at once to the same agent; and in a queue,
        until the session escalates, not again to who let an offer of it expire (routing
        moves on). Named agents are asked again: nobody else may take it."""
        held = {o.agent_id for o in self.open_offers()}
        moved_on = self.passed if self.queue_id is not None and not self.escalated else set()
        return set(self.declined) | held | moved_on

    def may_be_offered_to(self, agent_id: str) -> bool:
        return agent_id not in self.excluded()

    def lines(self) -> list[UUID]:
        """The queues it waits in: its own, and its overflow queue once it overflowed (R14)."""
        return [q for q in (self.queue_id, self.overflow_queue_id) if q is not None]

    def recorded(self, offer_ids: list[UUID]) -> Task:
        """The same, with those of its offers the log has now marked so (see view.reserve)."""
        offers = {o: replace(offer, recorded=True) if o in offer_ids else offer
                  for o, offer in self.offers.items()}  # fmt: skip
        return replace(self, offers=offers)


@dataclass(frozen=True)
class AgentState:
    id: str | None = None
    name: str = ""
    max_sessions: int = 1
    status: AgentStatus = AgentStatus.OFFLINE
    reason: str | None = None  # R12: why away or offline, when said
    since: datetime | None = None  # when the state began (configured, or its last change)
    spent: Mapping[str, float] = field(default_factory=dict)  # R12: seconds, before ``since``
    sessions: frozenset[UUID] = frozenset()
    wrap_ups: Mapping[UUID, routing.WrapUpStarted] = field(default_factory=dict)  # R11, by session
    skills: Mapping[str, int] = field(default_factory=dict)  # R9: proficiency, 1-5
    version: int = -1

    @property
    def wrapping(self) -> list[routing.WrapUpStarted]:
        """R11: its wrap-ups, the first to end first."""
        return sorted(self.wrap_ups.values(), key=lambda w: w.until)

    @property
    def load(self) -> int:
        """Slots taken: the sessions it holds and those it wraps up (R11)."""
        return len(self.sessions) + len(self.wrap_ups)

    @property
    def can_take_work(self) -> bool:
        return self.status is AgentStatus.AVAILABLE and self.load < self.max_sessions

    def time_in_state(self, now: datetime) -> dict[str, float]:
        """R12: seconds in each state and each state's reason since it was configured."""
        return spent_until(self.spent, state_keys(self.status, self.reason), self.since, now)


def state_keys(status: AgentStatus, reason: str | None) -> tuple[str, ...]:
    """Where time in a state counts (R12): the state, and the state with its reason."""
    return (status.value, f"{status.value}:{reason}") if reason else (status.value,)


def spent_until(
    spent: Mapping[str, float], keys: tuple[str, ...], since: datetime | None, at: datetime
) -> dict[str, float]:
    """``spent`` with the time from ``since`` to ``at`` added to each of ``keys``."""
    total = dict(spent)
    if since is not None:
        seconds = max(0.0, (at - since).total_seconds())
        for key in keys:
            total[key] = total.get(key, 0.0) + seconds
    return total


# --- folding --------------------------------------------------------------------------------------


def fold_task(events: list[Envelope], start: Task | None = None) -> Task:
    """The task from recorded events; from ``start`` on when given (e.g. just appended)."""
    task = start or Task()
    for e in events:
        task = next_task(task, e)
    return task


def next_task(task: Task, e: Envelope, event: Event | None = None) -> Task:
    """The task after one more recorded event of its stream (``event``: ``e`` parsed, when the
    caller has it already)."""
    event = event or e.event()
    if isinstance(event, routing.TaskQueued):
        task = Task(correlation_id=e.correlation_id, cause=e.event_id)
    return replace(evolve_task(event, task, e.occurred_at), version=e.stream_version)


def fold_agent(events: list[Envelope], start: AgentState | None = None) -> AgentState:
    agent = start or AgentState()
    for e in events:
        agent = replace(evolve_agent(e.event(), agent, e.occurred_at), version=e.stream_version)
    return agent


def _close(task: Task, offer_id: UUID) -> Task:
    closed = replace(task.offers[offer_id], open=False)
    return replace(task, offers={**task.offers, offer_id: closed})


@singledispatch
def evolve_task(event: Event, task: Task, at: datetime) -> Task:
    return task


@evolve_task.register
def _(event: routing.TaskQueued, task: Task, at: datetime) -> Task:
    return replace(
        task,
        id=event.task_id,
        session_id=event.session_id,
        queue_id=event.queue_id,
        named_agents=tuple(event.agent_ids),
        status=TaskStatus.WAITING,
        queued_at=at,
        message=event.message,
        request_id=event.request_id,
        priority=event.priority or 5,
        preferred_agent=event.preferred_agent,
        skills=tuple(event.skills or ()),
    )


@evolve_task.register
def _(event: routing.OfferMade, task: Task, at: datetime) -> Task:
    offer = Offer(event.offer_id, event.agent_id, event.expires_at)
    return replace(task, offers={**task.offers, offer.id: offer})


@evolve_task.register
def _(event: routing.OfferAccepted, task: Task, at: datetime) -> Task:
    closed = _close(task, event.offer_id)
    return replace(
        closed,
        status=TaskStatus.ASSIGNED,
        assigned_to=event.agent_id,
        accepted_offer=event.offer_id,
    )


@evolve_task.register
def _(event: routing.OfferDeclined, task: Task, at: datetime) -> Task:
    return replace(_close(task, event.offer_id), declined=task.declined | {event.agent_id})


@evolve_task.register
def _(event: routing.OfferExpired, task: Task, at: datetime) -> Task:
    return replace(_close(task, event.offer_id), passed=task.passed | {event.agent_id})


@evolve_task.register
def _(event: routing.OfferWithdrawn, task: Task, at: datetime) -> Task:
    return _close(task, event.offer_id)


@evolve_task.register
def _(event: routing.TaskEscalated, task: Task, at: datetime) -> Task:
    return replace(task, escalated=True)


@evolve_task.register
def _(event: routing.TaskOverflowed, task: Task, at: datetime) -> Task:
    return replace(task, overflow_queue_id=event.queue_id)


@evolve_task.register
def _(event: routing.TaskWithdrawn, task: Task, at: datetime) -> Task:
    return replace(task, status=TaskStatus.WITHDRAWN)


@singledispatch
def evolve_agent(event: Event, agent: AgentState, at: datetime | None = None) -> AgentState:
    """The agent after one more event of its stream, recorded ``at`` (None: the time in each
    state is not kept)."""
    return agent


@evolve_agent.register
def _(event: routing.AgentConfigured, agent: AgentState, at: datetime | None = None) -> AgentState:
    since = agent.since or at  # the clock of its states starts when it is first configured
    return replace(
        agent, id=event.agent_id, name=event.name, max_sessions=event.max_sessions, since=since,
        skills=dict(event.skills or {}),
    )  # fmt: skip


@evolve_agent.register
def _(
    event: routing.AgentStatusChanged, agent: AgentState, at: datetime | None = None
) -> AgentState:
    spent = agent.spent
    if at is not None:
        spent = spent_until(spent, state_keys(agent.status, agent.reason), agent.since, at)
    return replace(agent, status=event.status, reason=event.reason, since=at, spent=spent)


@evolve_agent.register
def _(
    event: routing.AgentSessionStarted, agent: AgentState, at: datetime | None = None
) -> AgentState:
    return replace(agent, sessions=agent.sessions | {event.session_id})


@evolve_agent.register
def _(
    event: routing.AgentSessionFinished, agent: AgentState, at: datetime | None = None
) -> AgentState:
    return replace(agent, sessions=agent.sessions - {event.session_id})


@evolve_agent.register
def _(event: routing.WrapUpStarted, agent: AgentState, at: datetime | None = None) -> AgentState:
    return replace(agent, wrap_ups={**agent.wrap_ups, event.session_id: event})


@evolve_agent.register
def _(event: routing.WrapUpFinished, agent: AgentState, at: datetime | None = None) -> AgentState:
    wrap_ups = {s: w for s, w in agent.wrap_ups.items() if s != event.session_id}
    return replace(agent, wrap_ups=wrap_ups)
