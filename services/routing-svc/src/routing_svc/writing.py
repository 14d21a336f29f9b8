"""The recipe for routing commands and for the session events routing follows.

Streams: ``queue-<id>`` (its definition), ``agent-<id>`` (configuration, status, the sessions
it holds), ``routing-<session id>`` (the session's routing tasks and their offers: one task at
a time, a new hand-off starts the next).

An accept appends to the session's routing stream and to the agent's stream in one
statement, each at the version read, so exactly one agent wins a task and none goes
over capacity, whatever the number of replicas (R6). Session events come in through the inbox
and are turned into routing facts in the inbox's transaction: a hand-off queues a task (and
frees the agent who handed it on), an ended session withdraws its waiting task or frees its
agent (R6, R7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID, uuid5

from eventlog import (
    ConcurrencyConflict,
    EventStore,
    NewEvent,
    Stream,
    Transaction,
    retrying,
    utc_now,
    write,
    write_in,
)
from eventlog.model import Cause, Handling, StreamState, SystemCause
from eventlog.writing import History, Log
from routing_svc.domain.queues import (
    change_agent_status,
    configure_agent,
    configure_queue,
    configure_status_reasons,
    set_not_responding,
)
from routing_svc.domain.state import AgentState, Task, fold_agent, fold_task
from routing_svc.domain.tasks import (
    accept_offer,
    assign_task,
    decline_offer,
    end_task,
    offer_to_agent,
    queue_task,
    requeue_task,
)
from routing_svc.domain.wrap_ups import finish_wrap_up, start_wrap_up, time_out_wrap_up
from support_contracts import Envelope, Event
from support_contracts.refusals import Invalid, Refused
from support_contracts.routing import (
    DEFAULT_STATUS_REASONS,
    AcceptOffer,
    AgentSessionFinished,
    AssignTask,
    ChangeAgentStatus,
    ConfigureAgent,
    ConfigureQueue,
    ConfigureStatusReasons,
    DeclineOffer,
    FinishWrapUp,
    OfferToAgent,
    QueueDefinition,
    TaskQueued,
    TaskSource,
)
from support_contracts.session import (
    HandedToAgents,
    HandedToQueue,
    SessionEnded,
    SessionRequested,
    SessionRequeued,
)
from support_contracts.topology import SUBSCRIPTIONS

APPLIED = "commands"  # the inbox's name for the commands this service applied
SESSION_EVENTS = list(SUBSCRIPTIONS["routing-svc"].routing_keys)  # what queues or ends a task
# most sessions end never handed to routing: the inbox looks first whether the end writes
# anything, before it opens a transaction for it (issue 19)
LOOKED_AT_FIRST = frozenset({SessionEnded.event_type()})


Taking = tuple[list[Event], list[Event]]  # the events of the session's task, of its agent


def case_stream(session_id: UUID) -> str:
    return f"routing-{session_id}"


def agent_stream(agent_id: str) -> str:
    return f"agent-{agent_id}"


def queue_stream(queue_id: UUID) -> str:
    return f"queue-{queue_id}"


STATUS_REASONS = "status-reasons"  # R12: the site's reasons for away and offline


class RoutingLog:
    def __init__(
        self,
        store: EventStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        agents_kept: int = 100_000,
    ) -> None:
        self.store, self.now = store, clock
        self._agents: dict[str, AgentState] = {}  # as last read: a prefix of the stream
        self._agents_kept = agents_kept

    async def _agent(self, tx: Log, agent_id: str) -> AgentState:
        """The agent now, in ``tx``'s snapshot. An agent's stream grows with every session it
        takes, so the state last read is kept and only the events after it are read: the log
        is append-only, so what was read once stays true and the rest is the delta."""
        known, unread = self._agents.get(agent_id), self._unread(agent_id)
        agent = fold_agent(await tx.read_stream(agent_stream(agent_id), unread), known)
        if len(self._agents) >= self._agents_kept and agent_id not in self._agents:
            self._agents.pop(next(iter(self._agents)))
        self._agents[agent_id] = agent
        return agent

    def _unread(self, agent_id: str) -> int:
        """The first version of the agent's stream this process has not read."""
        known = self._agents.get(agent_id)
        return known.version + 1 if known else 0

    # --- admins and agents ----------------------------------------------------------------------

    async def configure_queue(self, cmd: ConfigureQueue, *, new_id: UUID | None = None) -> UUID:
        """R1: a new queue (``new_id``, or one derived from the command's id, so a redelivery
        names the same queue) or a new definition of an existing one."""
        queue_id = cmd.queue_id or new_id or uuid5(cmd.command_id, "queue")
        events = configure_queue(cmd.definition, queue_id=queue_id)
        overflow = cmd.definition.overflow_queue_id
        if overflow is not None and await self.queue(overflow) is None:  # R14: the body's fault
            raise Invalid("unknown_overflow_queue", f"there is no queue {overflow} to overflow to")
        stream = Stream(queue_stream(queue_id), History)
        await write(self.store, stream, lambda _: events, cmd, clock=self.now, applied=APPLIED)
        return queue_id

    async def queue(self, queue_id: UUID, log: Log | None = None) -> QueueDefinition | None:
        """The queue's definition as last recorded, read from the log (not a projection), or
        as ``log`` (a transaction) sees it."""
        events = await (log or self.store).read_stream(queue_stream(queue_id))
        return QueueDefinition.model_validate(events[-1].data["definition"]) if events else None

    async def configure_agent(self, cmd: ConfigureAgent) -> AgentState:
        return await self._agent_change(cmd, cmd.agent_id, lambda _: configure_agent(cmd))

    async def change_agent_status(self, cmd: ChangeAgentStatus) -> AgentState:
        """R3, R12: the site's reasons are read only for a change that gives one (a change of
        status alone stays one statement)."""
        reasons = await self.status_reasons() if cmd.reason is not None else ()
        return await self._agent_change(
            cmd, cmd.agent_id, lambda agent: change_agent_status(agent, cmd, reasons)
        )

    async def set_not_responding(self, agent_id: str, cause: Cause) -> AgentState:
        """R13: the router sets away an agent who let too many offers in a row expire; ``cause``
        (derived from the last of them) is recorded as applied, so a router that does it again
        changes nothing."""
        return await self._agent_change(cause, agent_id, set_not_responding)

    async def finish_wrap_up(self, cmd: FinishWrapUp) -> AgentState:
        """R11: the agent is done wrapping up the session; its slot is free."""
        return await self._agent_change(cmd, cmd.agent_id, lambda a: finish_wrap_up(a, cmd))

    async def time_out_wrap_up(self, agent_id: str, session_id: UUID, cause: Cause) -> AgentState:
        """R11: the router ends a wrap-up whose time ran out (``cause`` recorded as applied)."""
        return await self._agent_change(
            cause, agent_id, lambda a: time_out_wrap_up(a, session_id, now=self.now())
        )

    async def configure_status_reasons(self, cmd: ConfigureStatusReasons) -> list[str]:
        events = configure_status_reasons(cmd.reasons)
        stream = Stream(STATUS_REASONS, History)
        await write(self.store, stream, lambda _: events, cmd, clock=self.now, applied=APPLIED)
        return list(cmd.reasons)

    async def status_reasons(self) -> list[str]:
        """R12: the site's reasons as last set, read from the log; the defaults until then."""
        events = await self.store.read_stream(STATUS_REASONS)
        return list(events[-1].data["reasons"]) if events else list(DEFAULT_STATUS_REASONS)

    async def _agent_change(
        self, cmd: Cause, agent_id: str, decide: Callable[[AgentState], list[Event]]
    ) -> AgentState:
        known = self._agents.get(agent_id)
        if known is not None:  # decided on the agent as last read, in one round trip
            changed = await self._change_known(cmd, agent_id, known, decide)
            if changed is not None:
                return changed

        written = await write(
            self.store, self._agent_stream(agent_id), decide, cmd, clock=self.now, applied=APPLIED
        )
        agent = fold_agent(written.recorded, written.before)
        self._agents[agent_id] = agent  # committed: what the next change decides on
        return agent

    def _agent_stream(self, agent_id: str) -> Stream[AgentState]:
        """An agent's stream, loaded from what this process read of it before."""
        return Stream(agent_stream(agent_id), fold_agent, partial(self._agent, agent_id=agent_id))

    async def _change_known(
        self,
        cmd: Cause,
        agent_id: str,
        known: AgentState,
        decide: Callable[[AgentState], list[Event]],
    ) -> AgentState | None:
        """The change decided on the agent as this process last read it, appended at that
        version with the record that ``cmd`` is applied, in one statement. None, leaving it
        to the transaction that reads the agent first, when that may be out of date: the
        append found the stream moved on (another replica), the decision was a refusal or no
        change (the version check cannot confirm those), or ``cmd`` was applied before."""
        try:
            events = decide(known)
        except Refused:
            return None
        if not events:
            return None
        try:
            recorded = await self.store.append_once(
                agent_stream(agent_id), NewEvent.caused(events, cmd, self.now()), known.version,
                Handling(APPLIED, cmd.command_id),
            )  # fmt: skip
        except ConcurrencyConflict:
            return None
        if recorded is None:
            return None
        agent = fold_agent(recorded, known)
        self._agents[agent_id] = agent
        return agent

    async def accept(self, cmd: AcceptOffer) -> Task:
        return await self._take(
            cmd,
            lambda task, agent: accept_offer(
                task, agent, cmd.offer_id, cmd.agent_id, now=self.now()
            ),
        )

    async def assign(self, cmd: AssignTask) -> Task:
        """Issue 14.2: an admin's assignment; its offer id is the command's, so a redelivery
        finds the assignment made."""
        offer_id = uuid5(cmd.command_id, "offer")
        return await self._take(
            cmd,
            lambda task, agent: assign_task(
                task, agent, cmd.agent_id, offer_id=offer_id, by=cmd.actor_id or "", now=self.now()
            ),
        )

    async def offer_to_agent(self, cmd: OfferToAgent, *, open_for: timedelta) -> Task:
        """R17: the supervisor's offer, decided on the agent as the log has it, appended at the
        task's version (its offer id is the command's, so a redelivery finds it made)."""
        offer_id = uuid5(cmd.command_id, "offer")

        async def once(tx: Transaction) -> Task:
            agent = await self._agent(tx, cmd.agent_id)
            now = self.now()

            def decide(task: Task) -> list[Event]:
                return offer_to_agent(
                    task, agent, cmd.agent_id, offer_id=offer_id, by=cmd.actor_id or "",
                    now=now, timeout=open_for,
                )  # fmt: skip

            offered = await write_in(tx, _case(cmd.session_id), decide, cmd, now=now)
            return fold_task(offered.recorded, offered.before)

        return await retrying(self.store, once)

    async def _take(
        self, cmd: AcceptOffer | AssignTask, decide: Callable[[Task, AgentState], Taking]
    ) -> Task:
        """R6: the agent takes the session: the session's routing stream and the agent's
        stream appended in one statement, each at the version read, so one agent wins and
        none goes over capacity. Both streams are read in one statement before (the agent's
        from the version last read on) and the write is the decision's one write, with no
        transaction around them (``EventStore.decision``, issue 19: two statements, not six)."""
        stream = agent_stream(cmd.agent_id)

        async def once(tx: Transaction) -> Task:
            agent_events: list[Event] = []

            async def take(task: Task) -> list[Event]:
                task_events, agent_events[:] = decide(task, await self._agent(tx, cmd.agent_id))
                return task_events

            def follows(task: Task, _: object) -> list[tuple[str, list[Event]]]:
                return [(stream, agent_events)]  # at the version read (the decision checks it)

            reads = {stream: self._unread(cmd.agent_id)}
            now = self.now()
            taken = await write_in(
                tx, _case(cmd.session_id), take, cmd, now=now, reads=reads, follows=follows
            )
            return fold_task(taken.recorded, taken.before)

        return await retrying(self.store, once, decision=True)

    async def decline(self, cmd: DeclineOffer) -> Task:
        def decide(task: Task) -> list[Event]:
            return decline_offer(task, cmd.offer_id, cmd.agent_id)

        written = await write(self.store, _case(cmd.session_id), decide, cmd, clock=self.now)
        return fold_task(written.recorded, written.before)

    # --- session events, in the inbox's transaction ---------------------------------------------

    async def on_session_event(self, envelope: Envelope, tx: Transaction) -> None:
        """A hand-off or an entry-form session queues a task; an ended session withdraws its
        task or frees its agent. The inbox records the event as handled in ``tx``."""
        event = envelope.event()
        session_id = UUID(envelope.stream_id.removeprefix("session-"))
        agent_events: list[AgentSessionFinished] = []
        ended_in: list[UUID] = []  # the queue of a session that ended in an agent's hands

        now = self.now()

        def decide(task: Task) -> list[Event]:
            if isinstance(event, SessionEnded):
                case_events, agent_events[:] = end_task(task, now=now)
                if agent_events and task.queue_id is not None:
                    ended_in.append(task.queue_id)
                return case_events
            queued = _queued(event, session_id, task_id=uuid5(envelope.event_id, "task"))
            if queued is None:
                return []
            follow = requeue_task if isinstance(event, SessionRequeued) else queue_task
            case_events, agent_events[:] = follow(task, queued)
            return case_events

        cause = SystemCause(command_id=envelope.event_id, correlation_id=envelope.correlation_id)
        await write_in(tx, _case(session_id), decide, cause, now=now)
        for finished in agent_events:
            events: list[Event] = [finished]
            if ended_in:  # R11: the slot stays taken while the agent wraps the session up
                queue = await self.queue(ended_in[0], tx)
                if queue is not None:
                    events += start_wrap_up(finished, ended_in[0], queue, now=now)
            caused = NewEvent.caused(events, cause, now)
            await tx.append(agent_stream(finished.agent_id), caused, StreamState.ANY)  # tx's end


def _case(session_id: UUID) -> Stream[Task]:
    return Stream(case_stream(session_id), fold_task)


def _queued(event: Event, session_id: UUID, *, task_id: UUID) -> TaskQueued | None:
    queued = partial(TaskQueued, task_id=task_id, session_id=session_id)
    match event:
        case SessionRequested():
            return queued(
                source=TaskSource.ENTRY_FORM, queue_id=event.queue_id, request_id=event.request_id,
                preferred_agent=event.preferred_agent, skills=event.skills,
            )  # fmt: skip
        case HandedToQueue():
            return queued(
                source=TaskSource.HAND_OFF, queue_id=event.queue_id, message=event.message,
                priority=event.priority, preferred_agent=event.preferred_agent,
                skills=event.skills,
            )  # fmt: skip
        case SessionRequeued():
            return queued(source=TaskSource.REQUEUE, queue_id=event.queue_id)
        case HandedToAgents():
            return queued(
                source=TaskSource.HAND_OFF, agent_ids=event.agent_ids, message=event.message
            )
    return None
