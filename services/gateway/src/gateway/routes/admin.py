"""The admin's routes: the site's settings, WebACD queues and agents, a csr's settings, the
status reasons (R1-R3, R12, S12)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from gateway import answers
from gateway.answers import documented
from gateway.identity import Role
from gateway.routes.common import Gw, Reply, Who, staff, wire
from support_contracts.replies import (
    AgentReply,
    CsrReply,
    QueueReply,
    SiteReply,
    StatusReasonsReply,
)
from support_contracts.routing import (
    ConfigureAgent,
    ConfigureQueue,
    ConfigureStatusReasons,
    QueueDefinition,
)
from support_contracts.session import (
    AmendCsrSettings,
    ChangeCsrSettings,
    ChangeSiteSettings,
    CsrSettings,
    GetSiteSettings,
    SiteSettings,
)
from support_contracts.vocabulary import (
    DisplayName,
    Proficiency,
    SessionMode,
    SkillName,
    StatusReason,
    UserId,
)

router = APIRouter(tags=["admin"])


class AgentBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Zoe", "max_sessions": 2, "skills": {"billing": 4, "spanish": 2}}]
        }
    )

    name: DisplayName
    max_sessions: StrictInt = Field(ge=1)
    skills: dict[SkillName, Proficiency] | None = Field(
        default=None, max_length=50, description="R9: each skill's proficiency, 1-5"
    )
    session_mode: SessionMode | None = None  # not given: the csr's stays as it is
    voice_supported: StrictBool | None = None


@router.get("/admin/site", **documented(answers.SiteReply, 401, 403, 503))
async def get_site(gw: Gw, who: Who) -> Reply:
    staff(who, Role.ADMIN)
    return wire(await gw.services(GetSiteSettings, SiteReply, who))


@router.put("/admin/site", **documented(answers.SiteReply, 401, 403, 422, 503))
async def put_site(body: SiteSettings, gw: Gw, who: Who) -> Reply:
    staff(who, Role.ADMIN)
    return wire(await gw.services(ChangeSiteSettings, SiteReply, who, settings=body))


class StatusReasonsBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reasons": ["lunch", "training", "end_of_shift"]}]}
    )

    reasons: list[StatusReason] = Field(min_length=1, max_length=50)


@router.put("/admin/status-reasons", **documented(answers.StatusReasonsReply, 401, 403, 422, 503))
async def put_status_reasons(body: StatusReasonsBody, gw: Gw, who: Who) -> Reply:
    """R12: the site's reasons for away and offline (``not_responding`` is routing's own)."""
    staff(who, Role.ADMIN)
    configured = await gw.services(
        ConfigureStatusReasons, StatusReasonsReply, who, reasons=body.reasons
    )
    return wire(configured)


@router.post("/admin/queues", **documented(answers.QueueReply, 401, 403, 422, 503, status=201))
async def configure_queue(body: QueueDefinition, gw: Gw, who: Who) -> Reply:
    """R1: a new queue."""
    staff(who, Role.ADMIN)
    return wire(await gw.services(ConfigureQueue, QueueReply, who, definition=body))


@router.put("/admin/agents/{agent_id}", **documented(answers.AgentReply, 401, 403, 422, 503))
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
        skills=body.skills,
    )
    return wire(configured)


@router.put("/admin/csrs/{csr_id}", **documented(answers.CsrReply, 401, 403, 422, 503))
async def configure_csr(csr_id: UserId, body: CsrSettings, gw: Gw, who: Who) -> Reply:
    """A csr's own settings (S2, S8, S9): single or multi-session, agent, voice."""
    staff(who, Role.ADMIN)
    return wire(await gw.services(ChangeCsrSettings, CsrReply, who, csr_id=csr_id, settings=body))
