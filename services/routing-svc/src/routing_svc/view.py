"""What routing knows now, folded from its own log: queues and their agent pools, each agent's
load and open offers, the sessions waiting (oldest first), when the next offer expires or a
session escalates, and recent handling times.

Every replica keeps one, following the log, to answer queries (``queries.py``); the leading
replica's router also decides from it (``planning.py``, ``router.py``). The router applies the
offers it decides at once (``reserve``), before they are recorded, so the next decision counts
them; when the log brings the same ``OfferMade`` back it changes nothing, and an offer that
could not be recorded is taken back (``release``).

An offer reserves a slot of its agent: an agent's load is its sessions, its wrap-ups (R11) and
its open offers, and only available agents below capacity are offered work (R3).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from routing_svc import snapshot
from routing_svc.domain.pool import Agent, AgentPool, Policy
from routing_svc.domain.state import (
    Task,
    TaskStatus,
    evolve_task,
    next_task,
    spent_until,
    state_keys,
)
from routing_svc.planning import deadlines_of
from routing_svc.statistics import Statistics
from routing_svc.view_parts import HANDLING_SAMPLES, AgentView, Key, Offering, Ordered, Timers
from routing_svc.waiting import Waiting
from support_contracts import Envelope, Event, routing
from support_contracts.vocabulary import AgentStatus


class RoutingView:
    def __init__(self, *, named_offer_timeout: timedelta = timedelta(seconds=60)) -> None:
        self.position = -1
        self.named_offer_timeout = named_offer_timeout
        self.queues: dict[UUID, routing.QueueDefinition] = {}
        self.pools: dict[UUID, AgentPool] = {}
        self.member_of: defaultdict[str, set[UUID]] = defaultdict(set)
        self.agents: dict[str, AgentView] = {}
        self.tasks: dict[UUID, Task] = {}  # waiting, by session
        self.keys: dict[UUID, Key] = {}
        self.waiting: defaultdict[UUID, Waiting] = defaultdict(Waiting)  # per queue (R5, R10)
        self.wanting: defaultdict[UUID, Waiting] = defaultdict(Waiting)  # the ones needing offers
        self.named: defaultdict[str, Ordered] = defaultdict(Ordered)  # per named agent
        self.requests: dict[UUID, UUID] = {}  # entry form request -> session
        self.holding: dict[UUID, tuple[UUID | None, datetime]] = {}  # session -> (queue, since)
        self.handling: defaultdict[UUID, deque[float]] = defaultdict(
            lambda: deque(maxlen=HANDLING_SAMPLES)
        )
        self.timers = Timers()  # waiting sessions' deadlines, and wrap-ups' (R11)
        self.dirty_queues: set[UUID] = set()
        self.dirty_agents: set[str] = set()
        self.gone_away: set[str] = set()  # agents away or offline who still hold open offers
        self.not_responding: set[str] = set()  # R13: available agents to set away
        self.statistics = Statistics()  # R16

    # --- following the log ----------------------------------------------------------------------

    def apply(self, envelope: Envelope) -> None:
        """One recorded event, in log order; an event at or before ``position`` is skipped."""
        if envelope.global_position <= self.position:
            return
        self.position = envelope.global_position
        event = envelope.event()
        if envelope.stream_id.startswith("routing-"):
            self._on_case(envelope, event)
        elif isinstance(event, routing.QueueConfigured):
            self.on_queue(event)
        elif isinstance(event, routing.QueueIntervalEnded):
            self.statistics.ended(event.queue_id, event.starts)
        else:
            self._on_agent(envelope, event)

    def _on_case(self, envelope: Envelope, event: Event) -> None:
        session_id: UUID = event.session_id  # type: ignore[attr-defined]
        before = self.tasks.get(session_id)
        self.statistics.count(event, before, envelope.occurred_at, self.queues)  # R16
        if isinstance(event, routing.TaskQueued):
            if before is not None:
                self._drop_task(session_id)
            task = next_task(Task(), envelope, event)
            self.keys[session_id] = (envelope.occurred_at, envelope.global_position, session_id)
            if event.request_id is not None:
                self.requests[event.request_id] = session_id
            definition = self.queues.get(event.queue_id) if event.queue_id else None
            if definition and definition.overflow_when_estimated_wait_over_seconds:  # R14
                self.timers.session_at(envelope.occurred_at, session_id)  # its estimate, now
        elif before is None:
            task = None  # a task no longer waiting: only its agents change
        elif isinstance(event, routing.OfferMade) and event.offer_id in before.offers:
            task = before.recorded([event.offer_id])
            task = replace(task, version=max(before.version, envelope.stream_version))
        else:
            task = next_task(before, envelope, event)
        self._offers_changed(event, before, envelope.occurred_at)
        if task is None:
            return
        if task.status is TaskStatus.WAITING:
            self.set_task(task)
        else:
            self._drop_task(session_id)

    def _offers_changed(self, event: Event, before: Task | None, at: datetime) -> None:
        match event:
            case routing.OfferMade():
                agent = self._agent(event.agent_id)
                agent.offers[event.offer_id] = event.session_id
                self._refresh_agent(agent)
            case routing.OfferAccepted():
                agent = self._agent(event.agent_id)
                agent.offers.pop(event.offer_id, None)
                agent.sessions.add(event.session_id)
                agent.missed = 0  # R13: it answered
                self.holding[event.session_id] = (before.queue_id if before else None, at)
                self._refresh_agent(agent)
            case routing.OfferDeclined() | routing.OfferExpired() | routing.OfferWithdrawn():
                agent = self._agent(event.agent_id)
                agent.offers.pop(event.offer_id, None)
                if isinstance(event, routing.OfferDeclined):
                    agent.missed = 0  # R13: it answered
                elif isinstance(event, routing.OfferExpired):
                    self._missed(agent, event, before)
                self._refresh_agent(agent)

    def _missed(self, agent: AgentView, event: routing.OfferExpired, task: Task | None) -> None:
        """R13: an offer of a queue made to the agent alone that it let expire counts toward
        the queue's limit. Offers to many at once do not: named hand-offs (offered again and
        again by design), an escalated session and the ``everybody`` policy; one such session
        nobody took in time would otherwise set the whole desk away at once."""
        definition = self.queue_of(task)
        if definition is None or task is None or task.correlation_id is None:
            return
        if self.mode(task) is Policy.EVERYBODY:
            return
        agent.missed += 1
        agent.missed_limit = definition.max_missed_offers
        agent.missed_cause = (event.offer_id, task.correlation_id)
        if agent.not_responding:
            self.not_responding.add(agent.id)

    def on_queue(self, event: routing.QueueConfigured) -> None:
        queue_id, definition = event.queue_id, event.definition
        old = self.pools.get(queue_id)
        for agent_id in old.agents if old else ():
            self.member_of[agent_id].discard(queue_id)
        self.queues[queue_id] = definition
        for in_line in (self.waiting[queue_id], self.wanting[queue_id]):
            in_line.aging_seconds = definition.priority_aging_seconds  # R10
        pool = self.pools[queue_id] = AgentPool()
        for order, agent_id in enumerate(definition.agent_ids):
            self.member_of[agent_id].add(queue_id)
            pool.put(_pooled(self._agent(agent_id), order))
        for key in list(self.waiting[queue_id]):  # the policy or the thresholds may differ
            self.set_task(self.tasks[key[2]])
        self.dirty_queues.add(queue_id)

    def _on_agent(self, envelope: Envelope, event: Event) -> None:
        at, correlation_id = envelope.occurred_at, envelope.correlation_id
        match event:
            case routing.AgentConfigured():
                agent = self._agent(event.agent_id)
                agent.name, agent.capacity, agent.configured = event.name, event.max_sessions, True
                agent.skills = dict(event.skills or {})  # R9
                agent.since = agent.since or at
            case routing.AgentStatusChanged():
                agent = self._agent(event.agent_id)
                if agent.set_away_at is not None and envelope.stream_version >= agent.set_away_at:
                    agent.set_away_at = None  # R13: the router's away, read back (or later)
                keys = state_keys(agent.status, agent.reason)
                agent.spent = spent_until(agent.spent, keys, agent.since, at)
                agent.status, agent.reason, agent.since = event.status, event.reason, at
                if event.status is AgentStatus.AVAILABLE:
                    agent.free_since = at
                    agent.missed = 0  # R13: back, and answering again
                elif agent.offers:
                    self.gone_away.add(agent.id)
            case routing.AgentSessionStarted():
                agent = self._agent(event.agent_id)
                agent.sessions.add(event.session_id)
            case routing.AgentSessionFinished():
                agent = self._agent(event.agent_id)
                agent.sessions.discard(event.session_id)
                agent.free_since = at
                queue_id, since = self.holding.pop(event.session_id, (None, at))
                if queue_id is not None:
                    self.handling[queue_id].append((at - since).total_seconds())
                    self.statistics.finished(queue_id, since, at)
            case routing.WrapUpStarted():  # R11: the slot stays taken until it ends
                agent = self._agent(event.agent_id)
                agent.wrap_ups[event.session_id] = (event, correlation_id)
                self.timers.wrap_up_at(event.until, agent.id, event.session_id)
            case routing.WrapUpFinished():
                agent = self._agent(event.agent_id)
                agent.wrap_ups.pop(event.session_id, None)
                agent.free_since = at
            case _:
                return
        self._refresh_agent(agent)

    # --- keeping the indexes ----------------------------------------------------------------------

    def _agent(self, agent_id: str) -> AgentView:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = self.agents[agent_id] = AgentView(agent_id)
        return agent

    def set_away(self, agent: AgentView, version: int) -> None:
        """R13: the router set ``agent`` away, at ``version`` of its stream: away in this view
        at once, until the view reads that change back (the log may hold it back meanwhile)."""
        agent.set_away_at = version
        self._refresh_agent(agent)

    def _refresh_agent(self, agent: AgentView) -> None:
        for queue_id in self.member_of.get(agent.id, ()):
            pool = self.pools[queue_id]
            pool.put(_pooled(agent, pool.agents[agent.id].order))
        if agent.eligible:
            self.dirty_queues |= self.member_of.get(agent.id, set())
            self.dirty_agents.add(agent.id)

    def queue_of(self, task: Task | None) -> routing.QueueDefinition | None:
        """The definition of the queue the task waits in; None for named agents or unknown."""
        return self.queues.get(task.queue_id) if task and task.queue_id else None

    def mode(self, task: Task, queue_id: UUID | None = None) -> Policy | None:
        """How the task is offered now (in ``queue_id``, its overflow queue, when given);
        None while its queue is unknown."""
        if task.queue_id is None or task.escalated:
            return Policy.EVERYBODY  # named agents, or escalated (R4, R5)
        definition = self.queues.get(queue_id or task.queue_id)
        return Policy(definition.policy) if definition else None

    def _wants_offers(self, task: Task) -> bool:
        mode = self.mode(task)
        return mode is Policy.EVERYBODY or (mode is not None and not task.open_offers())

    def set_task(self, task: Task) -> None:
        assert task.session_id is not None
        session_id, key = task.session_id, self.keys[task.session_id]
        self.tasks[session_id] = task
        if task.queue_id is not None:
            wants = self._wants_offers(task)
            for queue_id in task.lines():  # R14: the same age and priority in both
                self.waiting[queue_id].add(key, task.priority)
                if wants:
                    self.wanting[queue_id].add(key, task.priority)
                    self.dirty_queues.add(queue_id)
                else:
                    self.wanting[queue_id].discard(key)
        else:
            for agent_id in task.named_agents:
                self.named[agent_id].add(key)
                self.dirty_agents.add(agent_id)
        self._schedule(task)

    def _drop_task(self, session_id: UUID) -> None:
        task = self.tasks.pop(session_id, None)
        key = self.keys.pop(session_id, None)
        if task is None or key is None:
            return
        for queue_id in task.lines():
            self.waiting[queue_id].discard(key)
            self.wanting[queue_id].discard(key)
        for agent_id in task.named_agents:
            self.named[agent_id].discard(key)

    def _schedule(self, task: Task, after: datetime | None = None) -> None:
        """A timer at the task's next deadline (``planning.deadlines``), of those not before
        ``after`` when given: a due task looks again at the next one."""
        deadlines = [d for d in deadlines_of(self, task) if after is None or d >= after]
        if deadlines and task.session_id is not None:
            self.timers.session_at(min(deadlines), task.session_id)

    # --- what the router asks -------------------------------------------------------------------

    def due(self, now: datetime) -> list[Task]:
        """Waiting tasks with a deadline passed (each once; a stale timer finds nothing)."""
        due = [self.tasks[s] for s in self.timers.due_sessions(now) if s in self.tasks]
        for task in due:
            self.dirty_queues.update(task.lines())  # R9's relaxation, R18's window
            self._schedule(task, after=now)  # an earlier deadline may have hidden it
        return due

    def due_wrap_ups(self, now: datetime) -> list[tuple[str, UUID, UUID]]:
        """R11: wrap-ups whose time ran out (agent, session, correlation id), each once."""
        due = []
        for agent_id, session_id in self.timers.due_wrap_ups(now):
            agent = self.agents.get(agent_id)
            if agent is not None and session_id in agent.wrap_ups:
                due.append((agent_id, session_id, agent.wrap_ups[session_id][1]))
        return due

    def preferred_until(self, task: Task) -> datetime | None:
        preferred, queue_id = task.preferred_agent, task.queue_id
        if preferred is None or queue_id is None or task.queued_at is None:
            return None
        definition = self.queues.get(queue_id)
        if definition is None or not definition.preferred_agent_seconds:
            return None
        if queue_id not in self.member_of.get(preferred, ()):
            return None
        if preferred in task.declined or preferred in task.passed:
            return None
        return task.queued_at + timedelta(seconds=definition.preferred_agent_seconds)

    def reserve(self, task: Task, made: list[routing.OfferMade], now: datetime) -> None:
        """The router's own offers, counted before the log has them."""
        for event in made:
            task = replace(evolve_task(event, task, now), version=task.version + 1)
            offer = replace(task.offers[event.offer_id], recorded=False)
            task = replace(task, offers={**task.offers, offer.id: offer})
            self._offers_changed(event, None, now)
        self.set_task(task)

    def confirm(self, offering: Offering) -> None:
        """The offers are in the log now: queries may show them (an agent may accept them)."""
        task = self.tasks.get(offering.session_id)
        if task is not None:
            self.tasks[offering.session_id] = task.recorded([e.offer_id for e in offering.events])

    def release(self, offering: Offering) -> None:
        """Offers that could not be recorded (the session changed meanwhile): taken back."""
        for event in offering.events:
            agent = self._agent(event.agent_id)
            agent.offers.pop(event.offer_id, None)
            self._refresh_agent(agent)
        if offering.session_id in self.tasks:
            self.set_task(offering.before)

    def take_gone_away(self) -> list[tuple[str, Task]]:
        """Open offers of agents who went away or offline since (R3): to withdraw."""
        found = []
        for agent_id in sorted(self.gone_away):
            agent = self.agents[agent_id]
            if agent.status is AgentStatus.AVAILABLE:
                continue
            sessions = set(agent.offers.values())
            found += [(agent_id, self.tasks[s]) for s in sessions if s in self.tasks]
        self.gone_away.clear()
        return found

    def take_not_responding(self) -> list[AgentView]:
        """R13: available agents who let too many offers in a row expire: to set away."""
        found = [self.agents[a] for a in sorted(self.not_responding)]
        self.not_responding.clear()
        return [a for a in found if a.not_responding]

    def everything_dirty(self) -> None:
        """Every queue, agent and waiting task looked at once more: by a router that just
        took the lead, or after a turn that failed half-way. A timer set again for a task that
        is not due decides nothing."""
        self.dirty_queues |= set(self.queues)
        self.dirty_agents |= set(self.named)
        self.gone_away |= {a.id for a in self.agents.values() if a.offers}
        self.not_responding |= {a.id for a in self.agents.values() if a.not_responding}
        for agent in self.agents.values():
            for session_id, (started, _) in agent.wrap_ups.items():
                self.timers.wrap_up_at(started.until, agent.id, session_id)
        for task in self.tasks.values():
            self._schedule(task)

    # --- snapshots ------------------------------------------------------------------------------

    async def dump(self) -> bytes | None:
        """The view as of ``position`` for a snapshot (``routing_svc.snapshot.dump``)."""
        return await snapshot.dump(self)

    def restore(self, position: int, state: bytes) -> None:
        """The view as a snapshot left it (``routing_svc.snapshot.restore``)."""
        snapshot.restore(self, position, state)


def _pooled(agent: AgentView, order: int) -> Agent:
    available = agent.status is AgentStatus.AVAILABLE
    status = AgentStatus.AWAY if available and not agent.offerable else agent.status  # R13
    return Agent(
        agent.id, agent.capacity, order, status, agent.load, agent.free_since, agent.skills
    )
