"""The routes of a session: start, read, heartbeats, the active customer, control, the hand-off,
leave, end, and its live updates (S1-S11); its invitations are in ``invitations``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from gateway import answers
from gateway.answers import documented
from gateway.errors import responses
from gateway.identity import Caller, Role
from gateway.routes.common import AUTH, Gateway, Gw, Reply, Who, member, staff, wire
from service_runtime import presence
from support_contracts import Command
from support_contracts.invite import Channel, IssueInvitation
from support_contracts.refusals import Refusal
from support_contracts.replies import (
    EventsReply,
    InvitationReply,
    QueueReply,
    SessionReply,
    SiteReply,
)
from support_contracts.routing import CheckRoom
from support_contracts.session import (
    EndSession,
    GetSessionEvents,
    GetSiteSettings,
    HandOffToAgents,
    HandOffToQueue,
    Leave,
    RecordHeartbeat,
    SelectActiveCustomer,
    StartSession,
    TransferControl,
)
from support_contracts.vocabulary import (
    HandOffMessage,
    InviteeRole,
    ParticipantId,
    Priority,
    SkillName,
    UserId,
)
from support_rpc import RpcTimeout

router = APIRouter(tags=["sessions"])


class StartBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email_invite": True}]})

    email_invite: StrictBool = True


class ActiveCustomerBody(BaseModel):
    participant_id: ParticipantId


class ControlBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"to": "bob"}]})

    to: UserId


class HandoffBody(BaseModel):
    """To one WebACD queue, or to one or more agents by id: one of the two."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["queue_id"], "properties": {"queue_id": {"type": "string"}}},
                      {"required": ["agent_ids"], "properties": {"agent_ids": {"type": "array"}}}],
            "examples": [{"queue_id": "6a1f3c2e-8d1b-4e7a-9c55-0b6f1d2e3a4b",
                          "message": "Printer jams on page 2; customer has tried a restart."}],
        }
    )  # fmt: skip

    queue_id: UUID | None = None
    agent_ids: list[UserId] | None = Field(default=None, min_length=1)
    message: HandOffMessage | None = None
    priority: Priority | None = Field(
        default=None, description="R10: for a queue, 1 (first) to 9; 5 when left out"
    )
    preferred_agent: UserId | None = Field(
        default=None, description="R18: for a queue, the agent to be offered it first"
    )
    skills: list[SkillName] | None = Field(
        default=None, max_length=10, description="R9: for a queue, needed besides the queue's"
    )

    @model_validator(mode="after")
    def _one_target(self) -> HandoffBody:
        if (self.queue_id is None) == (self.agent_ids is None):
            raise ValueError("give a queue_id or agent_ids, not both")
        queue_only = (self.priority, self.preferred_agent, self.skills)
        if queue_only != (None, None, None) and self.queue_id is None:
            raise ValueError(
                "a priority, a preferred agent or skills are for a hand-off to a queue"
            )
        return self


@router.post("/sessions", **documented(answers.Started, *AUTH, status=201))
async def start_session(body: StartBody, gw: Gw, who: Who) -> Reply:
    """S1-S3: a csr starts a session; with `email_invite` the answer carries the e-mail draft."""
    staff(who, Role.CSR, Role.AGENT)
    started = await gw.services(
        StartSession,
        SessionReply,
        who,
        csr_id=who.id,
        csr_name=who.name,
        email_invite=body.email_invite,
    )
    session = started.session
    answer: Reply = {
        "session_id": str(session.session_id),
        "session_number": session.session_number,
        "session": wire(session),
    }
    if body.email_invite:
        answer |= await _email_draft(gw, who, session.session_id)
    return answer | gw.relay(session.session_id, who.id)


async def _email_draft(gw: Gateway, who: Caller, session_id: UUID) -> Reply:
    """The started session is the answer whatever happens to its draft: with invite-svc not
    answering, the draft is ``pending`` and the console asks for it again
    (``POST /v1/sessions/{id}/invitations`` with ``channel: own_email``)."""
    try:
        invitation = await gw.services(
            IssueInvitation,
            InvitationReply,
            who,
            session_id=session_id,
            role=InviteeRole.CUSTOMER,
            channel=Channel.OWN_EMAIL,
        )
    except RpcTimeout as error:  # RpcUnavailable too
        return {"draft": None, "draft_pending": True, "draft_error": str(error)}
    except Refusal as error:
        if error.status < 500:
            raise
        return {"draft": None, "draft_pending": True, "draft_error": error.message}
    assert invitation.draft is not None  # the own_email channel's
    return {"join_url": invitation.join_url, "draft": wire(invitation.draft)}


@router.get("/sessions/{session_id}", **documented(answers.Session, *AUTH))
async def get_session(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """The session rebuilt from its events: status, controller, participants, activities."""
    return wire(await member(gw, who, session_id))


@router.get("/sessions/{session_id}/events", **documented(answers.EventsReply, *AUTH))
async def session_events(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """The session's events in order: for its controller, supervisors (R17) and admins."""
    overseer = who.has(Role.ADMIN) or who.has(Role.SUPERVISOR)
    if who.participant or not overseer:  # the controller only
        session = await member(gw, who, session_id)
        if session.controller != who.id:
            raise Refusal(403, "not_controller", "only the controller or an admin reads the events")
    return wire(await gw.services(GetSessionEvents, EventsReply, who, session_id=session_id))


async def _controller_command(
    gw: Gateway, who: Caller, command: type[Command], session_id: UUID, **fields: Any
) -> Reply:
    staff(who, Role.CSR, Role.AGENT, Role.SUPERVISOR)  # a supervisor who took over (R17)
    return wire(await gw.services(command, SessionReply, who, session_id=session_id, **fields))


@router.post("/sessions/{session_id}/heartbeat", **documented(answers.SessionReply, *AUTH))
async def heartbeat(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """S4: the controller's console is alive."""
    return await _controller_command(gw, who, RecordHeartbeat, session_id)


@router.post("/sessions/{session_id}/active-customer", **documented(answers.SessionReply, *AUTH))
async def active_customer(session_id: UUID, body: ActiveCustomerBody, gw: Gw, who: Who) -> Reply:
    """S5: the controller selects the active customer (sharing ends)."""
    return await _controller_command(
        gw, who, SelectActiveCustomer, session_id, participant_id=body.participant_id
    )


@router.post("/sessions/{session_id}/control", **documented(answers.SessionReply, *AUTH))
async def transfer_control(session_id: UUID, body: ControlBody, gw: Gw, who: Who) -> Reply:
    """S8: the controller hands control to an assistant (every activity ends)."""
    return await _controller_command(gw, who, TransferControl, session_id, to_csr=body.to)


@router.post("/sessions/{session_id}/handoff", **documented(answers.SessionReply, *AUTH))
async def hand_off(session_id: UUID, body: HandoffBody, gw: Gw, who: Who) -> Reply:
    """S9: a controller who is an agent hands the session to a queue or to named agents; a
    queue that does not exist is refused (404 ``unknown_queue``), and so are named ids that are
    not WebACD agents (404 ``unknown_agent``, session-svc's rule): nothing would take it; a
    queue with as many sessions waiting as it takes is 409 ``queue_full`` (R15)."""
    if body.queue_id is not None:
        # a queue that does not exist is 404; one as full as it takes, 409 queue_full (R15)
        await gw.services(CheckRoom, QueueReply, who, queue_id=body.queue_id)
        return await _controller_command(
            gw, who, HandOffToQueue, session_id, queue_id=body.queue_id, message=body.message,
            priority=body.priority, preferred_agent=body.preferred_agent, skills=body.skills,
        )  # fmt: skip
    return await _controller_command(
        gw, who, HandOffToAgents, session_id, agent_ids=body.agent_ids, message=body.message
    )


@router.post("/sessions/{session_id}/leave", **documented(answers.SessionReply, *AUTH))
async def leave(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """S11: any participant leaves (the controller leaving ends the session)."""
    await member(gw, who, session_id)
    left = await gw.services(Leave, SessionReply, who, session_id=session_id, participant_id=who.id)
    return wire(left)


@router.post("/sessions/{session_id}/end", **documented(answers.SessionReply, *AUTH))
async def end(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """S10: the controller ends the session."""
    return await _controller_command(gw, who, EndSession, session_id)


@router.get(
    "/sessions/{session_id}/live",
    responses={200: {"content": {"text/event-stream": {}}}, **responses(*AUTH)},
    response_class=StreamingResponse,
)
async def live(
    session_id: UUID,
    request: Request,
    gw: Gw,
    who: Who,
    after: int = -1,
    last_event_id: Annotated[int | None, Header()] = None,
) -> StreamingResponse:
    """The session's events as server-sent events, in order, after version `after` (or the
    `Last-Event-ID` a reconnecting client sends). The controller's open stream keeps its console
    present (S4) as heartbeats would."""
    await member(gw, who, session_id)

    async def history() -> list[dict[str, Any]]:
        reply = await gw.services(GetSessionEvents, EventsReply, who, session_id=session_id)
        return [e.model_dump(mode="json") for e in reply.events]

    start = last_event_id if last_event_id is not None else after
    stream = gw.live.stream(session_id, start, history, request.is_disconnected)
    if not who.participant:  # staff: the controller now, or once control comes to them
        site = (await gw.services(GetSiteSettings, SiteReply, who)).site
        stream = _present_while(stream, gw, who, session_id, presence.beat_every(site))
    return StreamingResponse(stream, media_type="text/event-stream")


async def _present_while(
    stream: AsyncIterator[str], gw: Gateway, who: Caller, session_id: UUID, every: float
) -> AsyncIterator[str]:
    """S4 (issue 14.7): heartbeats for the caller while the stream is open."""

    async def beat() -> None:
        await gw.services(RecordHeartbeat, SessionReply, who, session_id=session_id)

    beating = asyncio.create_task(presence.keep_present(beat, every))
    try:
        async for chunk in stream:
            yield chunk
    finally:
        beating.cancel()
