"""Joining a session: a customer by invitation or by number, a csr as assistant (I1, S5, S7)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway import answers
from gateway.answers import documented
from gateway.identity import Role
from gateway.routes.common import AUTH, SESSION_NUMBER, Gw, MaybeWho, Reply, Who, staff, wire
from support_contracts.invite import RedeemInvitation
from support_contracts.replies import JoinedReply, RedeemedReply, SessionReply
from support_contracts.session import JoinAsAssistant, JoinAsCustomer
from support_contracts.vocabulary import DisplayName, parse_session_number

router = APIRouter(tags=["joining"])


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


@router.post("/join", **documented(answers.Joined, 400, 401, 403, 404, 409, 422, 503))
async def join(body: JoinBody, gw: Gw, who: MaybeWho) -> Reply:
    """A customer joins by invitation link (`token`) or by session number; a csr's invitation
    makes a signed-in csr an assistant. The answer has the participant token."""
    if body.token is not None:
        staff_member = who if who is not None and not who.participant else None  # csr links
        redeemed = await gw.services(
            RedeemInvitation, RedeemedReply, staff_member, token=body.token, name=body.name
        )
        session_id, participant = redeemed.session_id, redeemed.participant_id
    else:
        joined = await gw.services(
            JoinAsCustomer, JoinedReply, None, session_number=body.session_number, name=body.name
        )
        session_id, participant = joined.session.session_id, joined.participant_id
    return {"session_id": str(session_id), "participant_id": participant} | gw.relay(
        session_id, participant
    )


@router.post("/assist", **documented(answers.Assisting, *AUTH))
async def assist(body: AssistBody, gw: Gw, who: Who) -> Reply:
    """S7: a csr joins a running session as assistant by its number."""
    staff(who, Role.CSR, Role.AGENT)
    joined = await gw.services(
        JoinAsAssistant,
        SessionReply,
        who,
        session_number=body.session_number,
        csr_id=who.id,
        name=who.name,
    )
    session = joined.session
    return {"session": wire(session)} | gw.relay(session.session_id, who.id)
