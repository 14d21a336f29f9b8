"""The invitations of a session (I1): the controller invites a customer or a csr."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway import answers
from gateway.answers import documented
from gateway.identity import Role
from gateway.routes.common import AUTH, Gw, Reply, Who, staff, wire
from support_contracts.invite import Channel, IssueInvitation
from support_contracts.replies import InvitationReply
from support_contracts.vocabulary import InviteeRole

router = APIRouter(tags=["invitations"])


class InvitationBody(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"role": "customer", "channel": "email", "to": "dana@example.com"}]
        }
    )

    role: InviteeRole
    channel: Channel
    to: str | None = Field(default=None, max_length=320)


@router.post(
    "/sessions/{session_id}/invitations",
    **documented(answers.InvitationReply, *AUTH, status=201),
)
async def invite(session_id: UUID, body: InvitationBody, gw: Gw, who: Who) -> Reply:
    """I1: the controller invites a customer or a csr by e-mail, own mail, website or IM."""
    staff(who, Role.CSR, Role.AGENT, Role.SUPERVISOR)
    fields = body.model_dump(exclude_unset=True)
    return wire(
        await gw.services(IssueInvitation, InvitationReply, who, session_id=session_id, **fields)
    )
