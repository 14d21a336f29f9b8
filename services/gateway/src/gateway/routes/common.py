"""What every route needs: the gateway's parts, who calls (a staff token or a participant
token), the role and membership checks, and the errors every route may answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from gateway.calls import Calls
from gateway.identity import Caller, Identity, Role
from gateway.live import Feed
from gateway.settings import Settings
from service_runtime import participant_tokens
from support_contracts.refusals import Refusal
from support_contracts.replies import Session, SessionReply
from support_contracts.session import GetSession

Reply = dict[str, Any]
SESSION_NUMBER = r"^[ -]*([0-9][ -]*){9}$"  # nine digits, spaces or dashes between (S1)


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
        raise Refusal(403, "forbidden", f"only a signed-in {names} may do this")


def wire(reply: BaseModel) -> Reply:
    """A service's reply model as the service put it on the wire: the fields that were set
    (an optional field that does not apply is absent, not null)."""
    return reply.model_dump(mode="json")


async def member(gw: Gateway, who: Caller, session_id: UUID) -> Session:
    """The session, if the caller is one of its participants (or 403): nobody reaches another
    csr's session by guessing its id."""
    if who.participant and who.session_id != session_id:
        raise Refusal(403, "not_participant", "your token is for another session")
    session = (await gw.services(GetSession, SessionReply, who, session_id=session_id)).session
    if who.id not in {p.id for p in session.participants}:
        raise Refusal(403, "not_participant", "you are not a participant of this session")
    return session


AUTH = (401, 403, 404, 409, 422, 503)
