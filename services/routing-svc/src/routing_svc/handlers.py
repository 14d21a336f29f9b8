"""Every command and query routing-svc takes, mapped to what answers it: one place to read.

Commands are decided on the log (any replica); queries are answered from the replica's view of
the log, which follows it within milliseconds."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid5

from pydantic import BaseModel

from routing_svc.domain.queues import check_room as check_room_in
from routing_svc.domain.queues import closed_refusal, is_open
from routing_svc.domain.state import AgentState, Task
from routing_svc.queries import (
    agents_by_state,
    longest_wait,
    position_of,
    seconds_per_place,
    standing_of,
)
from routing_svc.statistics import interval_of, service_level_seconds
from routing_svc.view import RoutingView
from routing_svc.view_parts import AgentView
from routing_svc.writing import RoutingLog
from support_contracts import Command
from support_contracts import routing as contract
from support_contracts.refusals import NotFound, StateForbids
from support_contracts.replies import (
    Agent,
    AgentReply,
    EntryFormReply,
    IntervalStats,
    JoinedReply,
    Offer,
    QueueReply,
    QueueStats,
    QueueStatsReply,
    StandingReply,
    StatusReasonsReply,
    TaskReply,
    WaitingReply,
    WaitingSession,
    WrapUp,
)
from support_contracts.session import OpenRequestedSession
from support_rpc import Call, ask


@dataclass
class Routing:
    handlers: RoutingLog
    view: RoutingView
    sessions: Call


async def configure_queue(r: Routing, cmd: contract.ConfigureQueue) -> QueueReply:
    queue_id = await r.handlers.configure_queue(cmd)
    return QueueReply(queue_id=queue_id, definition=cmd.definition)


def _agent_reply(
    r: Routing, agent: AgentState | AgentView, *, max_sessions: int, **seen: Any
) -> AgentReply:
    """An agent as the log has it (a command's answer), or as the view sees it with ``seen``,
    its offers and whether it may be offered more (``GetAgent``); with its time in each state
    up to now (R12)."""
    reason = {"reason": agent.reason} if agent.reason else {}
    wrap_ups = [
        WrapUp(session_id=w.session_id, queue_id=w.queue_id, until=w.until, codes=w.codes,
               code_required=w.code_required)
        for w in agent.wrapping
    ]  # fmt: skip
    return AgentReply(
        agent=Agent(
            agent_id=agent.id,
            name=agent.name,
            max_sessions=max_sessions,
            status=agent.status,
            sessions=sorted(agent.sessions, key=str),
            time_in_state=agent.time_in_state(r.handlers.now()),
            wrap_ups=wrap_ups,
            skills=dict(agent.skills),
            **reason,
            **seen,
        )
    )


async def configure_agent(r: Routing, cmd: contract.ConfigureAgent) -> AgentReply:
    agent = await r.handlers.configure_agent(cmd)
    return _agent_reply(r, agent, max_sessions=agent.max_sessions)


async def change_agent_status(r: Routing, cmd: contract.ChangeAgentStatus) -> AgentReply:
    agent = await r.handlers.change_agent_status(cmd)
    return _agent_reply(r, agent, max_sessions=agent.max_sessions)


async def finish_wrap_up(r: Routing, cmd: contract.FinishWrapUp) -> AgentReply:
    agent = await r.handlers.finish_wrap_up(cmd)
    return _agent_reply(r, agent, max_sessions=agent.max_sessions)


async def configure_status_reasons(
    r: Routing, cmd: contract.ConfigureStatusReasons
) -> StatusReasonsReply:
    return StatusReasonsReply(reasons=await r.handlers.configure_status_reasons(cmd))


async def get_status_reasons(r: Routing, cmd: contract.GetStatusReasons) -> StatusReasonsReply:
    return StatusReasonsReply(reasons=await r.handlers.status_reasons())


def _task_reply(task: Task, session_id: UUID) -> TaskReply:
    return TaskReply(
        session_id=task.session_id or session_id,
        task_id=task.id,
        status=task.status.value,
        assigned_to=task.assigned_to,
    )


async def accept_offer(r: Routing, cmd: contract.AcceptOffer) -> TaskReply:
    return _task_reply(await r.handlers.accept(cmd), cmd.session_id)


async def assign_task(r: Routing, cmd: contract.AssignTask) -> TaskReply:
    return _task_reply(await r.handlers.assign(cmd), cmd.session_id)


async def offer_to_agent(r: Routing, cmd: contract.OfferToAgent) -> TaskReply:
    """R17: with the queue's offer time (a named hand-off's, for one). The agent's slots are
    checked on the log's sessions and wrap-ups, and first on the view, which also counts the
    offers open to it (the router's own may be on their way: the accept checks again)."""
    seen = r.view.agents.get(cmd.agent_id)
    if seen is not None and seen.configured and seen.load >= seen.capacity:
        raise StateForbids("at_capacity", f"{cmd.agent_id} has no free slot")
    task = r.view.tasks.get(cmd.session_id)
    definition = r.view.queue_of(task)
    timeout = r.view.named_offer_timeout
    if definition is not None:
        timeout = timedelta(seconds=definition.offer_timeout_seconds)
    return _task_reply(await r.handlers.offer_to_agent(cmd, open_for=timeout), cmd.session_id)


async def decline_offer(r: Routing, cmd: contract.DeclineOffer) -> TaskReply:
    return _task_reply(await r.handlers.decline(cmd), cmd.session_id)


async def submit_entry_form(r: Routing, cmd: contract.SubmitEntryForm) -> EntryFormReply:
    """R8: outside the queue's hours the form is refused with when it opens; otherwise
    session-svc opens a session that waits in the queue (routing queues it from the event)."""
    definition = await r.handlers.queue(cmd.queue_id)
    if definition is None:
        raise NotFound("unknown_queue", f"there is no queue {cmd.queue_id}")
    if not is_open(definition, r.handlers.now()):
        raise closed_refusal(definition, r.handlers.now())
    check_room_in(definition, _waiting(r, cmd.queue_id), seconds_per_place(r.view, cmd.queue_id))
    request_id = uuid5(cmd.command_id, "request")  # the same for a redelivered form
    opening = OpenRequestedSession(
        command_id=cmd.command_id,
        correlation_id=cmd.correlation_id,
        queue_id=cmd.queue_id,
        request_id=request_id,
        customer_name=cmd.name,
        customer_email=cmd.email,
        problem=cmd.problem,
        preferred_agent=cmd.preferred_agent,
        skills=cmd.skills,
    )
    opened = await ask(r.sessions, opening, JoinedReply)
    return EntryFormReply(
        request_id=request_id,
        queue_id=cmd.queue_id,
        session=opened.session,
        participant_id=opened.participant_id,
    )


async def get_queue(r: Routing, cmd: contract.GetQueue) -> QueueReply:
    return await _queue_reply(r, cmd.queue_id)


async def _queue_reply(r: Routing, queue_id: UUID) -> QueueReply:
    definition = r.view.queues.get(queue_id)
    if definition is None:  # or the view has not folded it yet: the log says
        definition = await r.handlers.queue(queue_id)
    if definition is None:
        raise NotFound("unknown_queue", f"there is no queue {queue_id}")
    available = [a for a in definition.agent_ids if (v := r.view.agents.get(a)) and v.eligible]
    frees_in = seconds_per_place(r.view, queue_id)
    return QueueReply(
        queue_id=queue_id,
        definition=definition,
        open=is_open(definition, r.handlers.now()),
        waiting=_waiting(r, queue_id),
        agents_free=len(available),
        **({"place_frees_in_seconds": frees_in} if frees_in is not None else {}),
    )


def _waiting(r: Routing, queue_id: UUID) -> int:
    return len(r.view.waiting.get(queue_id, ()))


async def check_room(r: Routing, cmd: contract.CheckRoom) -> QueueReply:
    """R15: what ``GetQueue`` answers, or 409 ``queue_full`` (a hand-off asks first)."""
    reply = await _queue_reply(r, cmd.queue_id)
    check_room_in(reply.definition, reply.waiting or 0, reply.place_frees_in_seconds)
    return reply


async def get_queue_stats(r: Routing, cmd: contract.GetQueueStats) -> QueueStatsReply:
    """R16: from the replica's view (which follows the log): each queue now, and the interval
    under way."""
    if cmd.queue_id is not None and cmd.queue_id not in r.view.queues:
        raise NotFound("unknown_queue", f"there is no queue {cmd.queue_id}")
    now = r.handlers.now()
    chosen = [cmd.queue_id] if cmd.queue_id else sorted(r.view.queues, key=str)
    stats = []
    for queue_id in chosen:
        definition = r.view.queues[queue_id]
        figures = r.view.statistics.figures(
            queue_id, interval_of(now), service_level_seconds(definition)
        )
        stats.append(
            QueueStats(
                queue_id=queue_id,
                name=definition.name,
                waiting=_waiting(r, queue_id),
                longest_wait_seconds=longest_wait(r.view, queue_id, now),
                agents=agents_by_state(r.view, queue_id),
                interval=IntervalStats(**figures),
            )
        )
    return QueueStatsReply(queues=stats)


async def list_waiting(r: Routing, cmd: contract.ListWaiting) -> WaitingReply:
    """R17: the sessions waiting now, from the replica's view: by queue, each queue's in its
    order (R10; an overflowed session in both with ``queue_id``), then those handed to named
    agents, the longest waiting first. Offers the log does not have yet are not shown."""
    if cmd.queue_id is not None and cmd.queue_id not in r.view.queues:
        raise NotFound("unknown_queue", f"there is no queue {cmd.queue_id}")
    now = r.handlers.now()
    found = []
    for task in list(r.view.tasks.values()):
        if task.session_id is None or (cmd.queue_id and cmd.queue_id not in task.lines()):
            continue
        definition = r.view.queue_of(task)
        waited = (now - task.queued_at).total_seconds() if task.queued_at else 0.0
        found.append(WaitingSession(
            session_id=task.session_id, queue_id=task.queue_id,
            queue_name=definition.name if definition else None,
            named_agents=list(task.named_agents), priority=task.priority,
            waited_seconds=max(0.0, waited), position=position_of(r.view, task, now),
            escalated=task.escalated, overflow_queue_id=task.overflow_queue_id,
            offered_to=sorted({o.agent_id for o in task.open_offers() if o.recorded}),
        ))  # fmt: skip
    found.sort(key=lambda w: (w.queue_id is None, str(w.queue_id), w.position or 0,
                              -w.waited_seconds))  # fmt: skip
    return WaitingReply(sessions=found)


async def get_agent(r: Routing, cmd: contract.GetAgent) -> AgentReply:
    agent = r.view.agents.get(cmd.agent_id)
    if agent is None or not agent.configured:
        raise NotFound("unknown_agent", f"no agent {cmd.agent_id} is configured")
    offers = []
    for offer_id, session_id in agent.offers.items():
        task = r.view.tasks.get(session_id)
        offer = task.offers.get(offer_id) if task else None
        if task is None or offer is None or not offer.recorded:
            continue  # not in the log yet: it could not be accepted
        queue = r.view.queue_of(task)
        offers.append(
            Offer(
                offer_id=offer_id,
                session_id=session_id,
                queue_id=task.queue_id,
                queue_name=queue.name if queue else None,
                message=task.message,
                expires_at=offer.expires_at,
            )
        )
    return _agent_reply(
        r, agent, max_sessions=agent.capacity, offers=offers, eligible=agent.eligible
    )


async def get_waiting_position(r: Routing, cmd: contract.GetWaitingPosition) -> StandingReply:
    session_id: UUID | None = cmd.session_id
    if cmd.request_id is not None:
        session_id = r.view.requests.get(cmd.request_id)
    standing = standing_of(r.view, session_id, r.handlers.now()) if session_id else None
    if standing is None:
        raise NotFound("not_waiting", "that session is not waiting for an agent")
    return StandingReply(
        session_id=standing.session_id,
        queue_id=standing.queue_id,
        position=standing.position,
        waiting=standing.waiting,
        estimated_wait_seconds=standing.estimated_wait_seconds,
    )


HANDLERS: dict[type[Command], Callable[[Routing, Any], Awaitable[BaseModel]]] = {
    contract.ConfigureQueue: configure_queue,
    contract.ConfigureAgent: configure_agent,
    contract.ChangeAgentStatus: change_agent_status,
    contract.FinishWrapUp: finish_wrap_up,
    contract.ConfigureStatusReasons: configure_status_reasons,
    contract.GetStatusReasons: get_status_reasons,
    contract.AcceptOffer: accept_offer,
    contract.DeclineOffer: decline_offer,
    contract.AssignTask: assign_task,
    contract.OfferToAgent: offer_to_agent,
    contract.SubmitEntryForm: submit_entry_form,
    contract.GetQueue: get_queue,
    contract.CheckRoom: check_room,
    contract.GetQueueStats: get_queue_stats,
    contract.GetAgent: get_agent,
    contract.GetWaitingPosition: get_waiting_position,
    contract.ListWaiting: list_waiting,
}
