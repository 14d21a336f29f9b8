"""The admin's routes: the site's settings, WebACD queues and agents, a csr's settings, and a
session ended, re-queued or assigned by hand (R1-R3, S12)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from gateway import answers
from gateway.answers import documented
from gateway.identity import Role
from gateway.routes.common import AUTH, Gw, Reply, Who, staff, wire
from support_contracts.replies import (
    AgentReply,
    CsrReply,
    QueueReply,
    SessionReply,
    SiteReply,
    StatusReasonsReply,
    TaskReply,
)
from support_contracts.routing import (
    AssignTask,
    ConfigureAgent,
    ConfigureQueue,
    ConfigureStatusReasons,
    GetQueue,
    QueueDefinition,
)
from support_contracts.session import (
    AmendCsrSettings,
    ChangeCsrSettings,
    ChangeSiteSettings,
    CsrSettings,
    EndSessionAsAdmin,
    GetSiteSettings,
    RequeueSession,
    SiteSettings,
)
from support_contracts.vocabulary import DisplayName, SessionMode, StatusReason, UserId

router = APIRouter()


class AgentBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Zoe", "max_sessions": 2}]})

    name: DisplayName
    max_sessions: StrictInt = Field(ge=1)
    session_mode: SessionMode | None = None  # not given: the csr's stays as it is
    voice_supported: StrictBool | None = None


class RequeueBody(BaseModel):
    queue_id: UUID


class AssignBody(BaseModel):
    agent_id: UserId


@router.get(
    "/admin/site",
    **documented(answers.SiteReply, 401, 403, 503),
    tags=["admin"],
)
async def get_site(gw: Gw, who: Who) -> Reply:
    staff(who, Role.ADMIN)
    return wire(await gw.services(GetSiteSettings, SiteReply, who))


@router.put(
    "/admin/site",
    **documented(answers.SiteReply, 401, 403, 422, 503),
    tags=["admin"],
)
async def put_site(body: SiteSettings, gw: Gw, who: Who) -> Reply:
    staff(who, Role.ADMIN)
    return wire(await gw.services(ChangeSiteSettings, SiteReply, who, settings=body))


class StatusReasonsBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reasons": ["lunch", "training", "end_of_shift"]}]}
    )

    reasons: list[StatusReason] = Field(min_length=1, max_length=50)


@router.put(
    "/admin/status-reasons",
    **documented(answers.StatusReasonsReply, 401, 403, 422, 503),
    tags=["admin"],
)
async def put_status_reasons(body: StatusReasonsBody, gw: Gw, who: Who) -> Reply:
    """R12: the site's reasons for away and offline (``not_responding`` is routing's own)."""
    staff(who, Role.ADMIN)
    configured = await gw.services(
        ConfigureStatusReasons, StatusReasonsReply, who, reasons=body.reasons
    )
    return wire(configured)


@router.post(
    "/admin/queues",
    **documented(answers.QueueReply, 401, 403, 422, 503, status=201),
    tags=["admin"],
)
async def configure_queue(body: QueueDefinition, gw: Gw, who: Who) -> Reply:
    """R1: a new queue."""
    staff(who, Role.ADMIN)
    return wire(await gw.services(ConfigureQueue, QueueReply, who, definition=body))


@router.put(
    "/admin/agents/{agent_id}",
    **documented(answers.AgentReply, 401, 403, 422, 503),
    tags=["admin"],
)
async def configure_agent(agent_id: UserId, body: AgentBody, gw: Gw, who: Who) -> Reply:
    """R3: an agent's name and most simultaneous sessions; the csr becomes a WebACD agent for
    session-svc too (S9: only agents hand sessions off). ``session_mode`` and
    ``voice_supported`` change the csr's settings only when given."""
    staff(who, Role.ADMIN)
    given = body.model_dump(mode="json", include={"session_mode", "voice_supported"})
    amended = {k: v for k, v in given.items() if v is not None}  # issue 14.3: only what is given
    await gw.services(
        AmendCsrSettings, CsrReply, who, csr_id=agent_id, is_webacd_agent=True, **amended
    )
    configured = await gw.services(
        ConfigureAgent,
        AgentReply,
        who,
        agent_id=agent_id,
        name=body.name,
        max_sessions=body.max_sessions,
    )
    return wire(configured)


@router.put(
    "/admin/csrs/{csr_id}",
    **documented(answers.CsrReply, 401, 403, 422, 503),
    tags=["admin"],
)
async def configure_csr(csr_id: UserId, body: CsrSettings, gw: Gw, who: Who) -> Reply:
    """A csr's own settings (S2, S8, S9): single or multi-session, agent, voice."""
    staff(who, Role.ADMIN)
    return wire(await gw.services(ChangeCsrSettings, CsrReply, who, csr_id=csr_id, settings=body))


# issue 14.2: an admin's way out for a stranded or stuck session


@router.post(
    "/admin/sessions/{session_id}/end",
    **documented(answers.SessionReply, *AUTH),
    tags=["admin"],
)
async def admin_end(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """An admin ends any live or waiting session (`ended_by_admin`, with who did it)."""
    staff(who, Role.ADMIN)
    return wire(await gw.services(EndSessionAsAdmin, SessionReply, who, session_id=session_id))


@router.post(
    "/admin/sessions/{session_id}/requeue",
    **documented(answers.SessionReply, *AUTH),
    tags=["admin"],
)
async def admin_requeue(session_id: UUID, body: RequeueBody, gw: Gw, who: Who) -> Reply:
    """An admin puts a waiting session in a queue again (404 `unknown_queue`, 409 `not_waiting`
    for a session with a controller); its offers begin afresh."""
    staff(who, Role.ADMIN)
    await gw.services(GetQueue, QueueReply, who, queue_id=body.queue_id)  # or 404
    requeued = await gw.services(
        RequeueSession, SessionReply, who, session_id=session_id, queue_id=body.queue_id
    )
    return wire(requeued)


@router.post(
    "/admin/sessions/{session_id}/assign",
    **documented(answers.TaskReply, *AUTH),
    tags=["admin"],
)
async def admin_assign(session_id: UUID, body: AssignBody, gw: Gw, who: Who) -> Reply:
    """An admin assigns a waiting session to an agent who is available and has a free slot (404
    `unknown_agent`; 409 `not_waiting`, `agent_unavailable`, `at_capacity`); the agent becomes
    its controller as after accepting an offer."""
    staff(who, Role.ADMIN)
    assigned = await gw.services(
        AssignTask, TaskReply, who, session_id=session_id, agent_id=body.agent_id
    )
    return wire(assigned)
