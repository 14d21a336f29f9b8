"""The routes of CONTRACT.md. Each checks who calls (role, and membership of the session it
names), turns the request into one command or query to the service that owns it, and answers
with the reply; the services decide everything else (who controls, limits, states)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib import resources
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import propagate, trace
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from gateway import answers, errors
from gateway.answers import documented
from gateway.asgi import HttpLayer
from gateway.calls import CORRELATION, Calls
from gateway.errors import ApiError, responses
from gateway.identity import Caller, Identity, Role
from gateway.live import Feed
from gateway.openapi import document
from gateway.settings import Settings
from service_runtime import participant_tokens, presence
from support_contracts.invite import Channel
from support_contracts.routing import QueueDefinition
from support_contracts.session import CsrSettings, SiteSettings
from support_contracts.vocabulary import (
    AgentStatus,
    DisplayName,
    EmailAddress,
    HandOffMessage,
    InviteeRole,
    ParticipantId,
    SessionMode,
    UserId,
    parse_session_number,
)
from support_rpc import RemoteError, RpcTimeout

Reply = dict[str, Any]
SESSION_NUMBER = r"^[ -]*([0-9][ -]*){9}$"  # nine digits, spaces or dashes between (S1)
JOIN_PAGE = (resources.files("gateway") / "pages" / "join.html").read_text(encoding="utf-8")
TRACER = trace.get_tracer("gateway")


@dataclass
class Gateway:
    settings: Settings
    identity: Identity
    services: Calls
    live: Feed

    def relay(self, session_id: UUID | str, participant: str) -> Reply:
        """Where the participant's client connects for chat and sharing, and with what."""
        token = participant_tokens.mint(
            self.settings.participant_token_secret,
            participant,
            UUID(str(session_id)),
            ttl_seconds=self.settings.participant_token_ttl_seconds,
        )
        url = f"{self.settings.relay_url}/v1/sessions/{session_id}/relay"
        return {"participant_token": token, "relay_url": url}


# The dependencies are coroutines: FastAPI runs a plain function in a worker thread, and that
# hand-off cost the gateway more than the rest of a request did (27% of its CPU, measured by
# bench/e2e). Only a key fetch from a JWKS URL blocks; that check goes to a thread.


async def gateway(request: Request) -> Gateway:
    gw: Gateway = request.app.state.gateway
    return gw


# the bearer scheme, for /openapi.json (issue 14.13): the header itself is read as it came, so
# every way it can be wrong gets its own 401
BEARER = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A staff token from the identity provider (roles csr, agent, admin), or the"
    " participant token a join, a start or the entry form answered with.",
)
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


async def caller(request: Request, _: Bearer) -> Caller:
    identity = (await gateway(request)).identity
    authorization = request.headers.get("authorization")
    if identity.may_block:
        return await run_in_threadpool(identity.caller, authorization)
    return identity.caller(authorization)


async def maybe_caller(request: Request, _: Bearer) -> Caller | None:
    if request.headers.get("authorization") is None:
        return None
    return await caller(request, _)


Gw = Annotated[Gateway, Depends(gateway)]
Who = Annotated[Caller, Depends(caller)]
MaybeWho = Annotated[Caller | None, Depends(maybe_caller)]


def staff(who: Caller, *roles: Role) -> None:
    if who.participant or not any(who.has(r) for r in roles):
        names = " or ".join(r.value for r in roles)
        raise ApiError(403, "forbidden", f"only a signed-in {names} may do this")


async def member(gw: Gateway, who: Caller, session_id: UUID) -> Reply:
    """The session, if the caller is one of its participants (or 403): nobody reaches another
    csr's session by guessing its id."""
    if who.participant and who.session_id != session_id:
        raise ApiError(403, "not_participant", "your token is for another session")
    session: Reply = (await gw.services("session", "GetSession", who, session_id=str(session_id)))[
        "session"
    ]
    if who.id not in {p["id"] for p in session["participants"]}:
        raise ApiError(403, "not_participant", "you are not a participant of this session")
    return session


# --- bodies -------------------------------------------------------------------------------------


class StartBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"email_invite": True}]})

    email_invite: StrictBool = True


class InvitationBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"role": "customer", "channel": "email", "to": "dana@example.com"}]
        }
    )

    role: InviteeRole
    channel: Channel
    to: str | None = Field(default=None, max_length=320)


class JoinBody(BaseModel):
    """By an invitation's token, or by the session number (spaces allowed): one of the two."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["token"], "properties": {"token": {"type": "string"}}},
                {
                    "required": ["session_number"],
                    "properties": {"session_number": {"type": "string"}},
                },
            ],
            "examples": [{"session_number": "123 456 789", "name": "Dana"}],
        }
    )

    token: str | None = Field(default=None, min_length=16, max_length=200)
    session_number: str | None = Field(None, json_schema_extra={"pattern": SESSION_NUMBER})
    name: DisplayName

    @model_validator(mode="after")
    def _one_way(self) -> JoinBody:
        if (self.token is None) == (self.session_number is None):
            raise ValueError("give a token or a session_number, not both")
        if self.session_number is not None:
            self.session_number = parse_session_number(self.session_number)
        return self


class AssistBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"session_number": "123 456 789"}]})

    session_number: str = Field(json_schema_extra={"pattern": SESSION_NUMBER})

    @model_validator(mode="after")
    def _digits(self) -> AssistBody:
        self.session_number = parse_session_number(self.session_number)
        return self


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

    @model_validator(mode="after")
    def _one_target(self) -> HandoffBody:
        if (self.queue_id is None) == (self.agent_ids is None):
            raise ValueError("give a queue_id or agent_ids, not both")
        return self


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


class StatusBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"status": "available"}]})

    status: AgentStatus


class EntryForm(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "Erin", "email": "erin@example.com", "problem": "The printer smokes."}
            ]
        }
    )

    name: DisplayName
    email: EmailAddress
    problem: str = Field(min_length=1, max_length=4000)


# --- routes -------------------------------------------------------------------------------------

v1 = APIRouter(prefix="/v1")
AUTH = (401, 403, 404, 409, 422, 503)


@v1.post(
    "/sessions",
    **documented(answers.Started, *AUTH, status=201),
    tags=["sessions"],
)
async def start_session(body: StartBody, gw: Gw, who: Who) -> Reply:
    """S1-S3: a csr starts a session; with `email_invite` the answer carries the e-mail draft."""
    staff(who, Role.CSR, Role.AGENT)
    started = await gw.services(
        "session",
        "StartSession",
        who,
        csr_id=who.id,
        csr_name=who.name,
        email_invite=body.email_invite,
    )
    session = started["session"]
    answer: Reply = {
        "session_id": session["session_id"],
        "session_number": session["session_number"],
    }
    answer["session"] = session
    if body.email_invite:
        answer |= await _email_draft(gw, who, session["session_id"])
    return answer | gw.relay(session["session_id"], who.id)


async def _email_draft(gw: Gateway, who: Caller, session_id: str) -> Reply:
    """The started session is the answer whatever happens to its draft: with invite-svc not
    answering, the draft is ``pending`` and the console asks for it again
    (``POST /v1/sessions/{id}/invitations`` with ``channel: own_email``)."""
    try:
        invitation = await gw.services(
            "invite",
            "IssueInvitation",
            who,
            session_id=session_id,
            role="customer",
            channel="own_email",
        )
    except RpcTimeout as error:  # RpcUnavailable too
        return {"draft": None, "draft_pending": True, "draft_error": str(error)}
    except RemoteError as error:
        if error.status < 500:
            raise
        return {"draft": None, "draft_pending": True, "draft_error": error.message}
    return {"join_url": invitation["join_url"], "draft": invitation["draft"]}


@v1.get(
    "/sessions/{session_id}",
    **documented(answers.Session, *AUTH),
    tags=["sessions"],
)
async def get_session(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """The session rebuilt from its events: status, controller, participants, activities."""
    return await member(gw, who, session_id)


@v1.get(
    "/sessions/{session_id}/events",
    **documented(answers.Events, *AUTH),
    tags=["sessions"],
)
async def session_events(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """The session's events in order: for its controller and for admins."""
    if who.participant or not who.has(Role.ADMIN):  # not an admin: the controller only
        session = await member(gw, who, session_id)
        if session["controller"] != who.id:
            raise ApiError(
                403, "not_controller", "only the controller or an admin reads the events"
            )
    return await gw.services("session", "GetSessionEvents", who, session_id=str(session_id))


async def _controller_command(
    gw: Gateway, who: Caller, command_type: str, session_id: UUID, **fields: Any
) -> Reply:
    staff(who, Role.CSR, Role.AGENT)
    return await gw.services("session", command_type, who, session_id=str(session_id), **fields)


@v1.post(
    "/sessions/{session_id}/heartbeat",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["sessions"],
)
async def heartbeat(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """S4: the controller's console is alive."""
    return await _controller_command(gw, who, "RecordHeartbeat", session_id)


@v1.post(
    "/sessions/{session_id}/invitations",
    **documented(answers.Invitation, *AUTH, status=201),
    tags=["invitations"],
)
async def invite(session_id: UUID, body: InvitationBody, gw: Gw, who: Who) -> Reply:
    """I1: the controller invites a customer or a csr by e-mail, own mail, website or IM."""
    staff(who, Role.CSR, Role.AGENT)
    return await gw.services(
        "invite", "IssueInvitation", who, session_id=str(session_id), **body.model_dump(mode="json")
    )


@v1.post(
    "/join",
    **documented(answers.Joined, 400, 401, 403, 404, 409, 422, 503),
    tags=["joining"],
)
async def join(body: JoinBody, gw: Gw, who: MaybeWho) -> Reply:
    """A customer joins by invitation link (`token`) or by session number; a csr's invitation
    makes a signed-in csr an assistant. The answer has the participant token."""
    if body.token is not None:
        staff_member = who if who is not None and not who.participant else None  # csr links
        joined = await gw.services(
            "invite", "RedeemInvitation", staff_member, token=body.token, name=body.name
        )
        session_id, participant = joined["session_id"], joined["participant_id"]
    else:
        joined = await gw.services(
            "session", "JoinAsCustomer", None, session_number=body.session_number, name=body.name
        )
        session_id, participant = joined["session"]["session_id"], joined["participant_id"]
    return {"session_id": session_id, "participant_id": participant} | gw.relay(
        session_id, participant
    )


@v1.post(
    "/assist",
    **documented(answers.Assisting, *AUTH),
    tags=["joining"],
)
async def assist(body: AssistBody, gw: Gw, who: Who) -> Reply:
    """S7: a csr joins a running session as assistant by its number."""
    staff(who, Role.CSR, Role.AGENT)
    joined = await gw.services(
        "session",
        "JoinAsAssistant",
        who,
        session_number=body.session_number,
        csr_id=who.id,
        name=who.name,
    )
    session = joined["session"]
    return {"session": session} | gw.relay(session["session_id"], who.id)


@v1.post(
    "/sessions/{session_id}/active-customer",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["sessions"],
)
async def active_customer(session_id: UUID, body: ActiveCustomerBody, gw: Gw, who: Who) -> Reply:
    """S5: the controller selects the active customer (sharing ends)."""
    return await _controller_command(
        gw, who, "SelectActiveCustomer", session_id, participant_id=body.participant_id
    )


@v1.post(
    "/sessions/{session_id}/control",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["sessions"],
)
async def transfer_control(session_id: UUID, body: ControlBody, gw: Gw, who: Who) -> Reply:
    """S8: the controller hands control to an assistant (every activity ends)."""
    return await _controller_command(gw, who, "TransferControl", session_id, to_csr=body.to)


@v1.post(
    "/sessions/{session_id}/handoff",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["sessions"],
)
async def hand_off(session_id: UUID, body: HandoffBody, gw: Gw, who: Who) -> Reply:
    """S9: a controller who is an agent hands the session to a queue or to named agents; a
    queue that does not exist is refused (404 ``unknown_queue``), and so are named ids that are
    not WebACD agents (404 ``unknown_agent``, session-svc's rule): nothing would take it."""
    if body.queue_id is not None:
        await gw.services("routing", "GetQueue", who, queue_id=str(body.queue_id))  # or 404
        return await _controller_command(
            gw, who, "HandOffToQueue", session_id, queue_id=str(body.queue_id), message=body.message
        )
    return await _controller_command(
        gw, who, "HandOffToAgents", session_id, agent_ids=body.agent_ids, message=body.message
    )


@v1.post(
    "/sessions/{session_id}/leave",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["sessions"],
)
async def leave(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """S11: any participant leaves (the controller leaving ends the session)."""
    await member(gw, who, session_id)
    return await gw.services(
        "session", "Leave", who, session_id=str(session_id), participant_id=who.id
    )


@v1.post(
    "/sessions/{session_id}/end",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["sessions"],
)
async def end(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """S10: the controller ends the session."""
    return await _controller_command(gw, who, "EndSession", session_id)


@v1.get(
    "/sessions/{session_id}/live",
    responses={200: {"content": {"text/event-stream": {}}}, **responses(*AUTH)},
    response_class=StreamingResponse,
    tags=["sessions"],
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
        reply = await gw.services("session", "GetSessionEvents", who, session_id=str(session_id))
        events: list[dict[str, Any]] = reply["events"]
        return events

    start = last_event_id if last_event_id is not None else after
    stream = gw.live.stream(session_id, start, history, request.is_disconnected)
    if not who.participant:  # staff: the controller now, or once control comes to them
        site = (await gw.services("session", "GetSiteSettings", who))["site"]
        stream = _present_while(stream, gw, who, session_id, presence.beat_every(site))
    return StreamingResponse(stream, media_type="text/event-stream")


async def _present_while(
    stream: AsyncIterator[str], gw: Gateway, who: Caller, session_id: UUID, every: float
) -> AsyncIterator[str]:
    """S4 (issue 14.7): heartbeats for the caller while the stream is open."""

    async def beat() -> None:
        await gw.services("session", "RecordHeartbeat", who, session_id=str(session_id))

    beating = asyncio.create_task(presence.keep_present(beat, every))
    try:
        async for chunk in stream:
            yield chunk
    finally:
        beating.cancel()


@v1.get(
    "/admin/site",
    **documented(answers.Site, 401, 403, 503),
    tags=["admin"],
)
async def get_site(gw: Gw, who: Who) -> Reply:
    staff(who, Role.ADMIN)
    return await gw.services("session", "GetSiteSettings", who)


@v1.put(
    "/admin/site",
    **documented(answers.Site, 401, 403, 422, 503),
    tags=["admin"],
)
async def put_site(body: SiteSettings, gw: Gw, who: Who) -> Reply:
    staff(who, Role.ADMIN)
    return await gw.services(
        "session", "ChangeSiteSettings", who, settings=body.model_dump(mode="json")
    )


@v1.post(
    "/admin/queues",
    **documented(answers.Queue, 401, 403, 422, 503, status=201),
    tags=["admin"],
)
async def configure_queue(body: QueueDefinition, gw: Gw, who: Who) -> Reply:
    """R1: a new queue."""
    staff(who, Role.ADMIN)
    return await gw.services(
        "routing", "ConfigureQueue", who, definition=body.model_dump(mode="json")
    )


@v1.put(
    "/admin/agents/{agent_id}",
    **documented(answers.AgentAnswer, 401, 403, 422, 503),
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
        "session", "AmendCsrSettings", who, csr_id=agent_id, is_webacd_agent=True, **amended
    )
    return await gw.services(
        "routing",
        "ConfigureAgent",
        who,
        agent_id=agent_id,
        name=body.name,
        max_sessions=body.max_sessions,
    )


@v1.put(
    "/admin/csrs/{csr_id}",
    **documented(answers.Csr, 401, 403, 422, 503),
    tags=["admin"],
)
async def configure_csr(csr_id: UserId, body: CsrSettings, gw: Gw, who: Who) -> Reply:
    """A csr's own settings (S2, S8, S9): single or multi-session, agent, voice."""
    staff(who, Role.ADMIN)
    return await gw.services(
        "session", "ChangeCsrSettings", who, csr_id=csr_id, settings=body.model_dump(mode="json")
    )


# --- issue 14.2: an admin's way out for a stranded or stuck session ------------------------------


@v1.post(
    "/admin/sessions/{session_id}/end",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["admin"],
)
async def admin_end(session_id: UUID, gw: Gw, who: Who) -> Reply:
    """An admin ends any live or waiting session (`ended_by_admin`, with who did it)."""
    staff(who, Role.ADMIN)
    return await gw.services("session", "EndSessionAsAdmin", who, session_id=str(session_id))


@v1.post(
    "/admin/sessions/{session_id}/requeue",
    **documented(answers.SessionAnswer, *AUTH),
    tags=["admin"],
)
async def admin_requeue(session_id: UUID, body: RequeueBody, gw: Gw, who: Who) -> Reply:
    """An admin puts a waiting session in a queue again (404 `unknown_queue`, 409 `not_waiting`
    for a session with a controller); its offers begin afresh."""
    staff(who, Role.ADMIN)
    await gw.services("routing", "GetQueue", who, queue_id=str(body.queue_id))  # or 404
    return await gw.services(
        "session", "RequeueSession", who, session_id=str(session_id), queue_id=str(body.queue_id)
    )


@v1.post(
    "/admin/sessions/{session_id}/assign",
    **documented(answers.Task, *AUTH),
    tags=["admin"],
)
async def admin_assign(session_id: UUID, body: AssignBody, gw: Gw, who: Who) -> Reply:
    """An admin assigns a waiting session to an agent who is available and has a free slot (404
    `unknown_agent`; 409 `not_waiting`, `agent_unavailable`, `at_capacity`); the agent becomes
    its controller as after accepting an offer."""
    staff(who, Role.ADMIN)
    return await gw.services(
        "routing", "AssignTask", who, session_id=str(session_id), agent_id=body.agent_id
    )


@v1.put(
    "/agents/me/status",
    **documented(answers.AgentAnswer, 401, 403, 404, 422, 503),
    tags=["agents"],
)
async def agent_status(body: StatusBody, gw: Gw, who: Who) -> Reply:
    """R3: available / away / offline."""
    staff(who, Role.AGENT)
    return await gw.services(
        "routing", "ChangeAgentStatus", who, agent_id=who.id, status=body.status
    )


@v1.get(
    "/agents/me/offers",
    **documented(answers.Offers, 401, 403, 404, 503),
    tags=["agents"],
)
async def offers(gw: Gw, who: Who) -> Reply:
    """R4: the offers open to the calling agent."""
    staff(who, Role.AGENT)
    agent = await gw.services("routing", "GetAgent", who, agent_id=who.id)
    return {"offers": agent["agent"]["offers"]}


async def _open_offer(gw: Gateway, who: Caller, offer_id: UUID) -> Reply:
    agent = await gw.services("routing", "GetAgent", who, agent_id=who.id)
    offer: Reply | None = next(
        (o for o in agent["agent"]["offers"] if o["offer_id"] == str(offer_id)), None
    )
    if offer is None:
        raise ApiError(404, "unknown_offer", "no such offer is open to you")
    return offer


async def _offer_command(gw: Gateway, who: Caller, command_type: str, offer: Reply) -> Reply:
    return await gw.services(
        "routing",
        command_type,
        who,
        session_id=offer["session_id"],
        offer_id=offer["offer_id"],
        agent_id=who.id,
    ) | {"session_id": offer["session_id"]}


@v1.post(
    "/offers/{offer_id}/accept",
    **documented(answers.Accepted, *AUTH),
    tags=["agents"],
)
async def accept(offer_id: UUID, gw: Gw, who: Who) -> Reply:
    """R6: the agent takes the session; answered once session-svc has made it the controller
    (``assigned`` false if that did not happen within the request timeout)."""
    staff(who, Role.AGENT)
    offer = await _open_offer(gw, who, offer_id)
    with gw.live.watch(UUID(offer["session_id"])) as arrivals:
        accepted = await _offer_command(gw, who, "AcceptOffer", offer)
        assigned = await _assigned(
            gw, who, arrivals, offer["session_id"], gw.settings.request_timeout_seconds
        )
    return accepted | {"assigned": assigned} | gw.relay(offer["session_id"], who.id)


ASKED_EVERY_SECONDS = 0.1


async def _assigned(
    gw: Gateway, who: Caller, arrivals: asyncio.Queue[Any], session_id: str, within: float
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
                reply = await gw.services("session", "GetSession", who, session_id=session_id)
                if reply["session"]["controller"] == who.id:
                    return
            except (RpcTimeout, RemoteError):
                pass  # the broker or session-svc still away: ask again, until the time is up
            await asyncio.sleep(ASKED_EVERY_SECONDS)

    try:
        await asyncio.wait_for(seen(), within)
    except TimeoutError:
        return False
    return True


@v1.post(
    "/offers/{offer_id}/decline",
    **documented(answers.Task, *AUTH),
    tags=["agents"],
)
async def decline(offer_id: UUID, gw: Gw, who: Who) -> Reply:
    """R4: the session is not offered to this agent again."""
    staff(who, Role.AGENT)
    return await _offer_command(gw, who, "DeclineOffer", await _open_offer(gw, who, offer_id))


@v1.post(
    "/queues/{queue_id}/requests",
    **documented(answers.Requested, 404, 409, 422, 503, status=201),
    tags=["customers"],
)
async def entry_form(queue_id: UUID, body: EntryForm, gw: Gw) -> Reply:
    """R8: a customer asks for help; outside the queue's hours the answer says it is closed."""
    submitted = await gw.services(
        "routing", "SubmitEntryForm", None, queue_id=str(queue_id), **body.model_dump()
    )
    session = submitted["session"]
    customer = session["active_customer"]
    return {
        "request_id": submitted["request_id"],
        "queue_id": str(queue_id),
        "session_id": session["session_id"],
        "participant_id": customer,
    } | gw.relay(session["session_id"], customer)


@v1.get(
    "/queues/{queue_id}/requests/{request_id}",
    **documented(answers.Standing, *AUTH),
    tags=["customers"],
)
async def waiting(queue_id: UUID, request_id: UUID, gw: Gw, who: Who) -> Reply:
    """R5: the customer's position in the queue and the estimated wait."""
    if who.session_id is None:
        raise ApiError(403, "not_yours", "only the customer who asked may see this request")
    standing = await gw.services("routing", "GetWaitingPosition", who, request_id=str(request_id))
    if who.session_id is None or str(who.session_id) != standing["session_id"]:
        raise ApiError(403, "not_yours", "only the customer who asked may see this request")
    if standing["queue_id"] != str(queue_id):
        raise ApiError(404, "not_in_queue", "that request waits in another queue")
    return standing


class Correlation(HttpLayer):
    """The request's correlation id, given (``X-Correlation-Id``) or new, on every command it
    sends and on its answer, and its server span (plain ASGI: Starlette's middleware cost 13% of
    the gateway's CPU, measured)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        given = headers.get("x-correlation-id")
        try:
            correlation_id = UUID(given) if given is not None else uuid4()  # "" is no UUID
        except ValueError:
            invalid = errors.error_response(422, "invalid", "X-Correlation-Id is a UUID")
            await invalid(scope, receive, send)
            return
        CORRELATION.set(correlation_id)
        echoed = (b"x-correlation-id", str(correlation_id).encode())

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        span = TRACER.start_as_current_span(
            f"{scope['method']} {scope['path']}",
            context=propagate.extract(headers),  # the caller's traceparent, if any
            kind=trace.SpanKind.SERVER,
            attributes={"correlation_id": str(correlation_id)},
        )
        with span:
            await self.app(scope, receive, answering)


def create_app(gw: Gateway) -> FastAPI:
    app = FastAPI(
        title="Support center gateway",
        version="1",
        description="The HTTP API for consoles and customer pages (CONTRACT.md).",
        generate_unique_id_function=lambda route: route.name,  # start_session, join, ...
    )
    app.state.gateway = gw
    errors.install(app)
    app.include_router(v1)
    app.add_middleware(errors.NoNul)
    app.add_middleware(Correlation)
    app.openapi = lambda: document(app)  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Reply:
        return {"ok": True}

    @app.get("/join", include_in_schema=False, response_class=HTMLResponse)
    async def join_page() -> HTMLResponse:
        """Issue 14.9: where invitations link (``SUPPORT_SITE_URL/join?token=...``) and where
        the website instructions send a customer with the session number."""
        return HTMLResponse(JOIN_PAGE)

    @app.get("/", include_in_schema=False)
    async def site() -> RedirectResponse:
        """The website instructions say "go to the site, choose Join": the join page, until the
        consoles (issue 16) have a front page."""
        return RedirectResponse("/join", status_code=307)

    return app
