"""R17: a supervisor's routes (admins may use most of them too): the sessions not ended and
those waiting for an agent, and stepping in: a live session taken over, any session ended, a
waiting one re-queued, offered to an agent or assigned to one; each recorded with who did it.
(They began as an admin's way out for a stranded session, issue 14.2.)"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from gateway import answers
from gateway.answers import documented
from gateway.identity import Role
from gateway.routes.common import AUTH, Gw, Reply, Who, staff, wire
from support_contracts.replies import (
    QueueReply,
    SessionReply,
    SessionsReply,
    TaskReply,
    WaitingReply,
)
from support_contracts.routing import AssignTask, GetQueue, ListWaiting, OfferToAgent
from support_contracts.session import (
    EndSessionAsAdmin,
    ListSessions,
    RequeueSession,
    TakeOverSession,
)
from support_contracts.vocabulary import UserId

router = APIRouter(tags=["supervisors"])


class RequeueBody(BaseModel):
    queue_id: UUID


class AssignBody(BaseModel):
    agent_id: UserId


@router.get("/supervisor/waiting", **documented(answers.WaitingReply, 401, 403, 404, 503))
async def waiting_sessions(gw: Gw, who: Who, queue_id: UUID | None = None) -> Reply:
    """R17: every session waiting for an agent (or one queue's, 404 ``unknown_queue``): its
    queue or named agents, priority, wait, place in the queue, and to whom it is offered now;
    by queue, each in its order, then the named hand-offs."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    return wire(await gw.services(ListWaiting, WaitingReply, who, queue_id=queue_id))


@router.get("/supervisor/sessions", **documented(answers.SessionsReply, 401, 403, 422, 503))
async def sessions(gw: Gw, who: Who, status: Literal["live", "waiting"] | None = None) -> Reply:
    """R17: every session not ended (or only the `live` or the `waiting` ones), the longest
    running first: its number, who controls it, who is in it, since when, and when its
    controller's console was last seen (S4)."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    return wire(await gw.services(ListSessions, SessionsReply, who, status=status))


@router.post("/supervisor/sessions/{session_id}/take-over", **documented(answers.Assisting, *AUTH))
async def take_over(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """R17: the supervisor takes over a live session: joins it (unless assisting already) and
    becomes its controller, as by a transfer (S8: every activity ends; the controller stays as
    an assistant); `ControlTransferred` names the supervisor in `taken_over_by`. From then on
    the supervisor's console keeps the session (S4), as any controller's: open its live updates
    or send heartbeats. 409 `waiting_for_agent` (a waiting session is offered or assigned
    instead), `session_ended`; 422 `already_controller`, `customer_as_supervisor`."""
    staff(who, Role.SUPERVISOR)
    taken = await gw.services(
        TakeOverSession,
        SessionReply,
        who,
        session_id=session_id,
        supervisor_id=who.id,
        supervisor_name=who.name,
    )
    return {"session": wire(taken.session)} | gw.relay(session_id, who.id)


@router.post("/supervisor/sessions/{session_id}/end", **documented(answers.SessionReply, *AUTH))
async def supervisor_end(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """A supervisor (R17) or an admin ends any live or waiting session (`ended_by_admin`,
    with who did it)."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    return wire(await gw.services(EndSessionAsAdmin, SessionReply, who, session_id=session_id))


@router.post("/supervisor/sessions/{session_id}/requeue", **documented(answers.SessionReply, *AUTH))
async def supervisor_requeue(session_id: UUID, body: RequeueBody, gw: Gw, who: Who) -> Reply:
    """A supervisor (R17) or an admin puts a waiting session in a queue again (404
    `unknown_queue`, 409 `not_waiting` for a session with a controller); its offers begin
    afresh; `SessionRequeued` names who did it."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    await gw.services(GetQueue, QueueReply, who, queue_id=body.queue_id)  # or 404
    requeued = await gw.services(
        RequeueSession, SessionReply, who, session_id=session_id, queue_id=body.queue_id
    )
    return wire(requeued)


@router.post("/supervisor/sessions/{session_id}/offer", **documented(answers.TaskReply, *AUTH))
async def supervisor_offer(session_id: UUID, body: AssignBody, gw: Gw, who: Who) -> Reply:
    """R17: a supervisor (or an admin) offers a waiting session to an agent of their choosing,
    who accepts or declines it as any offer (`OfferMade` names who offered it). 404
    `unknown_agent`; 409 `not_waiting`, `agent_unavailable`, `at_capacity`, `declined_before`
    (R4), `already_offered`."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    offered = await gw.services(
        OfferToAgent, TaskReply, who, session_id=session_id, agent_id=body.agent_id
    )
    return wire(offered)


@router.post("/supervisor/sessions/{session_id}/assign", **documented(answers.TaskReply, *AUTH))
async def supervisor_assign(session_id: UUID, body: AssignBody, gw: Gw, who: Who) -> Reply:
    """A supervisor (R17) or an admin assigns a waiting session to an agent who is available
    and has a free slot (404 `unknown_agent`; 409 `not_waiting`, `agent_unavailable`,
    `at_capacity`); the agent becomes its controller as after accepting an offer, and
    `OfferAccepted` names who assigned it."""
    staff(who, Role.SUPERVISOR, Role.ADMIN)
    assigned = await gw.services(
        AssignTask, TaskReply, who, session_id=session_id, agent_id=body.agent_id
    )
    return wire(assigned)
