"""A WebACD agent's routes: availability and why away (R3, R12), offers, accept and decline
(R4, R6), finishing a wrap-up (R11)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway import answers
from gateway.answers import documented
from gateway.identity import Caller, Role
from gateway.routes.common import AUTH, Gateway, Gw, Reply, Who, staff, wire
from support_contracts.refusals import Refusal
from support_contracts.replies import (
    AgentReply,
    Offer,
    SessionReply,
    StatusReasonsReply,
    TaskReply,
)
from support_contracts.routing import (
    AcceptOffer,
    ChangeAgentStatus,
    DeclineOffer,
    FinishWrapUp,
    GetAgent,
    GetStatusReasons,
)
from support_contracts.session import GetSession
from support_contracts.vocabulary import AgentStatus, StatusReason, WrapUpCode
from support_rpc import RpcTimeout

router = APIRouter(tags=["agents"])


class StatusBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"status": "available"}, {"status": "away", "reason": "lunch"}]
        }
    )

    status: AgentStatus
    reason: StatusReason | None = Field(
        default=None, description="R12: for away and offline, one of GET /v1/status-reasons"
    )


@router.put("/agents/me/status", **documented(answers.AgentReply, 401, 403, 404, 422, 503))
async def agent_status(body: StatusBody, gw: Gw, who: Who) -> Reply:
    """R3: available / away / offline; R12: away and offline with a reason of the site's."""
    staff(who, Role.AGENT)
    changed = await gw.services(
        ChangeAgentStatus, AgentReply, who, agent_id=who.id, status=body.status, reason=body.reason
    )
    return wire(changed)


class WrapUpBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "resolved"}, {}]})

    code: WrapUpCode | None = Field(
        default=None, description="one of the queue's wrap-up codes (required where it says so)"
    )


@router.post("/agents/me/wrap-ups/{session_id}/finish", **documented(answers.AgentReply, *AUTH))
async def finish_wrap_up(session_id: UUID, body: WrapUpBody, gw: Gw, who: Who) -> Reply:
    """R11: the agent is done wrapping up the session (its slot frees; 409 when it is not
    wrapping that session up, 422 for a code the queue does not have or wants and did not get)."""
    staff(who, Role.AGENT)
    finished = await gw.services(
        FinishWrapUp, AgentReply, who, agent_id=who.id, session_id=session_id, code=body.code
    )
    return wire(finished)


@router.get("/status-reasons", **documented(answers.StatusReasonsReply, 401, 403, 503))
async def status_reasons(gw: Gw, who: Who) -> Reply:
    """R12: the site's reasons for away and offline (an admin sets them)."""
    staff(who, Role.AGENT, Role.CSR, Role.SUPERVISOR, Role.ADMIN)
    return wire(await gw.services(GetStatusReasons, StatusReasonsReply, who))


@router.get("/agents/me", **documented(answers.AgentReply, 401, 403, 404, 503))
async def agent_me(gw: Gw, who: Who) -> Reply:
    """The calling agent as routing sees it: status and reason (routing sets away an agent who
    lets offers expire, R13), time in each state (R12), open offers, whether it may be offered
    more."""
    staff(who, Role.AGENT)
    return wire(await gw.services(GetAgent, AgentReply, who, agent_id=who.id))


@router.get("/agents/me/offers", **documented(answers.Offers, 401, 403, 404, 503))
async def offers(gw: Gw, who: Who) -> Reply:
    """R4: the offers open to the calling agent."""
    staff(who, Role.AGENT)
    return {"offers": [wire(o) for o in await _offers(gw, who)]}


async def _offers(gw: Gateway, who: Caller) -> list[Offer]:
    agent = (await gw.services(GetAgent, AgentReply, who, agent_id=who.id)).agent
    return agent.offers or []


async def _open_offer(gw: Gateway, who: Caller, offer_id: UUID) -> Offer:
    offer = next((o for o in await _offers(gw, who) if o.offer_id == offer_id), None)
    if offer is None:
        raise Refusal(404, "unknown_offer", "no such offer is open to you")
    return offer


async def _offer_command(
    gw: Gateway, who: Caller, command: type[AcceptOffer | DeclineOffer], offer: Offer
) -> Reply:
    task = await gw.services(
        command,
        TaskReply,
        who,
        session_id=offer.session_id,
        offer_id=offer.offer_id,
        agent_id=who.id,
    )
    return wire(task) | {"session_id": str(offer.session_id)}


@router.post("/offers/{offer_id}/accept", **documented(answers.Accepted, *AUTH))
async def accept(offer_id: UUID, gw: Gw, who: Who) -> Reply:
    """R6: the agent takes the session; answered once session-svc has made it the controller
    (``assigned`` false if that did not happen within the request timeout)."""
    staff(who, Role.AGENT)
    offer = await _open_offer(gw, who, offer_id)
    with gw.live.watch(offer.session_id) as arrivals:
        accepted = await _offer_command(gw, who, AcceptOffer, offer)
        assigned = await _assigned(
            gw, who, arrivals, offer.session_id, gw.settings.request_timeout_seconds
        )
    return accepted | {"assigned": assigned} | gw.relay(offer.session_id, who.id)


ASKED_EVERY_SECONDS = 0.1


async def _assigned(
    gw: Gateway, who: Caller, arrivals: asyncio.Queue[Any], session_id: UUID, within: float
) -> bool:
    """Whether session-svc made the agent the controller within ``within`` seconds: seen on the
    live feed (its ``AgentAssigned``), or, if the feed's connection goes meanwhile (a broker
    restart ends every watch with None), asked of session-svc until then. It answered true
    at that None without knowing: the one way an agent told ``assigned`` could have its end
    refused 403 ``not_controller`` a second later, as the fault suite saw once."""

    async def seen() -> None:
        while True:
            envelope = await arrivals.get()
            if envelope is None:
                await asked()
                return
            if envelope.type == "AgentAssigned" and envelope.data["agent_id"] == who.id:
                return

    async def asked() -> None:
        while True:
            try:
                reply = await gw.services(GetSession, SessionReply, who, session_id=session_id)
                if reply.session.controller == who.id:
                    return
            except (RpcTimeout, Refusal):
                pass  # the broker or session-svc still away: ask again, until the time is up
            await asyncio.sleep(ASKED_EVERY_SECONDS)

    try:
        await asyncio.wait_for(seen(), within)
    except TimeoutError:
        return False
    return True


@router.post("/offers/{offer_id}/decline", **documented(answers.TaskReply, *AUTH))
async def decline(offer_id: UUID, gw: Gw, who: Who) -> Reply:
    """R4: the session is not offered to this agent again."""
    staff(who, Role.AGENT)
    return await _offer_command(gw, who, DeclineOffer, await _open_offer(gw, who, offer_id))
