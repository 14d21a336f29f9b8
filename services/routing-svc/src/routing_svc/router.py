"""The router: follows routing's log into a ``RoutingView`` and, in the one replica that holds
the log's ``router`` lock, acts on it: makes offers (R4, R5), drains queues when slots free
(R7), expires offers and escalates sessions when their time comes (R4), withdraws the
offers of agents who went away (R3), and sets away the agents who let too many offers in a row
expire (R13), ends the wrap-ups whose time ran out (R11), and publishes each queue's figures
for an interval once it has ended (R16).

Timers survive restarts and run once: deadlines are rebuilt from the recorded offers and hand-
offs, only the lock holder acts, and every decision is appended with the session stream's
expected version, so even two routers (a lock lost mid-way) cannot record an expiry or an offer
twice for the same state. Other replicas follow the log too, every ``follower_seconds``, and
answer queries; when the leader stops, one of them takes the lock with a warm view.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from uuid import UUID, uuid4, uuid5

import structlog

from eventlog import ConcurrencyConflict, NewEvent, keep_turning, lead, turns
from eventlog.model import StreamState, SystemCause
from eventlog.snapshots import Snapshots, catch_up
from routing_svc.domain.state import Task
from routing_svc.domain.tasks import escalate, expire_offers, overflow, withdraw_offers_of
from routing_svc.planning import plan
from routing_svc.queries import standing_of
from routing_svc.view import RoutingView
from routing_svc.view_parts import Offering
from routing_svc.writing import RoutingLog, case_stream
from support_contracts import Event
from support_contracts.routing import QueueIntervalEnded, WithdrawReason
from support_contracts.vocabulary import AgentStatus

log = structlog.get_logger(__name__)

RETRY_AFTER = timedelta(milliseconds=50)
BATCH = 1000


class Router:
    def __init__(
        self,
        handlers: RoutingLog,
        view: RoutingView,
        *,
        new_id: Callable[[], UUID] = uuid4,
        idle_seconds: float = 1.0,
        lock_poll_seconds: float = 0.5,
        follower_seconds: float = 0.1,
        snapshot_every: int = 10_000,
    ) -> None:
        self.handlers, self.store, self.now = handlers, handlers.store, handlers.now
        self.view, self._new_id = view, new_id
        self._idle, self._lock_poll = idle_seconds, lock_poll_seconds
        self._follower = follower_seconds
        self.leading = False
        self._turning = asyncio.Lock()
        self._snapshots = Snapshots(self.store, "routing-view/v3", every_events=snapshot_every)

    async def catch_up(self) -> None:
        """Apply everything recorded since the view's position; the first time, from the
        latest snapshot of the view on (``routing-view/v3``; older ones, without R9 or R12,
        are not read), not from the start of the log."""
        await catch_up(self.store, self.view, self._snapshots, batch=BATCH)

    async def step(self) -> None:
        """Catch up, and when leading act on what is due now."""
        await self.catch_up()
        if self.leading:
            await self.act()
        else:
            self.view.due(self.now())  # the leader's business; a follower only drops them

    async def act(self) -> None:
        """What is due now; a turn that fails half-way (the database away) leaves its work to
        the next turn: every timer, queue and agent is looked at again."""
        try:
            await self._act()
        except BaseException:  # an error, or the lock lost and the turn cancelled
            self.view.everything_dirty()
            raise

    async def _act(self) -> None:
        now = self.now()
        for task in self.view.due(now):
            await self._on_deadline(task, now)
        for agent_id, session_id, correlation_id in self.view.due_wrap_ups(now):  # R11
            cause = SystemCause(uuid5(session_id, f"wrap-up-timed-out/{agent_id}"), correlation_id)
            await self.handlers.time_out_wrap_up(agent_id, session_id, cause)
        for agent in self.view.take_not_responding():  # R13: away first, then withdrawn
            assert agent.missed_cause is not None
            offer_id, correlation_id = agent.missed_cause
            cause = SystemCause(uuid5(offer_id, "not-responding"), correlation_id)
            state = await self.handlers.set_not_responding(agent.id, cause)
            if state.status is not AgentStatus.AVAILABLE:  # away: so in the view from now on
                self.view.set_away(agent, state.version)
        for agent_id, task in self.view.take_gone_away():
            events = withdraw_offers_of(task, agent_id, WithdrawReason.AGENT_UNAVAILABLE)
            if not await self._record(task, events):
                self.view.gone_away.add(agent_id)
        for ended in self.view.statistics.due(now, self.view.queues):  # R16, for analytics
            await self._publish(ended)
        offerings = plan(self.view, now=now, new_id=self._new_id)
        if offerings:
            await asyncio.gather(*(self._offer(o) for o in offerings))

    async def _on_deadline(self, task: Task, now: datetime) -> None:
        events = expire_offers(task, now=now)
        definition = self.view.queue_of(task)
        if definition is not None:
            after = timedelta(seconds=definition.escalation_seconds)
            events += escalate(task, now=now, after=after)
            assert task.session_id is not None
            standing = standing_of(self.view, task.session_id, now)
            estimate = standing.estimated_wait_seconds if standing else None
            events += overflow(task, definition, now=now, estimated_wait=estimate)  # R14
        if not await self._record(task, events):
            assert task.session_id is not None
            self.view.timers.session_at(now + RETRY_AFTER, task.session_id)

    async def _publish(self, ended: QueueIntervalEnded) -> None:
        """An interval's figures, once: its stream is the queue's and the interval's, appended
        only where there is none (another router may have done it)."""
        starts = ended.starts.strftime("%Y%m%dT%H%M")
        command_id = uuid5(ended.queue_id, f"interval/{starts}")
        new = NewEvent.caused([ended], SystemCause(command_id, command_id), self.now())
        with contextlib.suppress(ConcurrencyConflict):
            stream = f"queue-stats-{ended.queue_id}-{starts}"
            await self.store.append(stream, new, StreamState.NO_STREAM)
        self.view.statistics.ended(ended.queue_id, ended.starts)

    async def _offer(self, offering: Offering) -> None:
        events: list[Event] = list(offering.events)
        try:
            recorded = await self._record(offering.before, events)
        except BaseException:  # not recorded, or not known to be: the log will tell
            self.view.release(offering)
            raise
        if recorded:
            self.view.confirm(offering)
        else:
            self.view.release(offering)

    async def _record(self, task: Task, events: list[Event]) -> bool:
        """Append to the session's routing stream at the task's version; False on a conflict
        (the session changed: the log will bring the change and the router decides again)."""
        if not events:
            return True
        assert task.session_id is not None and task.correlation_id and task.cause
        cause = SystemCause(command_id=task.cause, correlation_id=task.correlation_id)
        new = NewEvent.caused(events, cause, self.now())
        try:
            await self.store.append(case_stream(task.session_id), new, task.version)
        except ConcurrencyConflict:
            return False
        return True

    async def run(self) -> None:
        """Follow until cancelled; while holding the ``router`` lock, act. The acting is the
        lock's work (``eventlog.lead``): the moment the lock is lost, a turn in the middle of
        its appends is cancelled, and the lock is free for another replica only once it has
        ended (it used to go on to the end of its turn, beside the next leader's, with a view
        that leader's decisions had made stale). One turn at a time, the follower's or the
        leader's: they share the view."""
        leading = asyncio.create_task(
            lead(
                self.store,
                "router",
                self._lead,
                retry_seconds=self._lock_poll,
                poll_seconds=self._lock_poll,
            ),
            name="router:lead",
        )

        async def follow() -> None:  # queries may be this stale; reading less often costs less
            async with self._turning:
                if not self.leading:
                    await self.step()
            await asyncio.sleep(self._follower)

        try:
            await keep_turning(follow, failed="router.retrying", retry_seconds=self._idle)
        finally:
            await turns.stop(leading)
            self.leading = False

    async def _lead(self) -> None:
        """Act, turn after turn, until cancelled (the lock lost, or the router stopping)."""

        async def act() -> None:
            async with self._turning:
                await self.step()
            await self.store.wait_for_events(self.view.position, self._wait())

        async with self._turning:
            self.take_lead()
        log.info("router.leading")
        try:
            await keep_turning(act, failed="router.retrying", retry_seconds=self._idle)
        finally:
            self.leading = False

    def _wait(self) -> float:
        deadline = self.view.timers.next()
        if not self.leading or deadline is None:
            return self._idle
        seconds = (deadline - self.now()).total_seconds() + 0.001
        return min(max(seconds, 0.0), self._idle)

    def take_lead(self) -> None:
        """From now on act: on every queue, agent and timer once (a follower dropped the
        timers that fell due while it followed)."""
        self.view.everything_dirty()
        self.leading = True
