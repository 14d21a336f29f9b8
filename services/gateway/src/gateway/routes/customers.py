"""A customer asking for help through a queue's entry form, and the request's standing (R5)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway import answers
from gateway.answers import documented
from gateway.routes.common import AUTH, Gw, Reply, Who, wire
from support_contracts.refusals import Refusal
from support_contracts.replies import EntryFormReply, StandingReply
from support_contracts.routing import GetWaitingPosition, SubmitEntryForm
from support_contracts.vocabulary import DisplayName, EmailAddress, SkillName, UserId

router = APIRouter(tags=["customers"])


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
    preferred_agent: UserId | None = Field(
        default=None, description="R18: the agent to be offered it first (say, the last one)"
    )
    skills: list[SkillName] | None = Field(
        default=None, max_length=10, description="R9: needed besides the queue's (a language)"
    )


@router.post(
    "/queues/{queue_id}/requests", **documented(answers.Requested, 404, 409, 422, 503, status=201)
)
async def entry_form(queue_id: UUID, body: EntryForm, gw: Gw) -> Reply:
    """R8: a customer asks for help; outside the queue's hours the answer says it is closed."""
    submitted = await gw.services(
        SubmitEntryForm, EntryFormReply, None, queue_id=queue_id, **body.model_dump()
    )
    session_id, customer = submitted.session.session_id, submitted.participant_id
    return {
        "request_id": str(submitted.request_id),
        "queue_id": str(queue_id),
        "session_id": str(session_id),
        "participant_id": customer,
    } | gw.relay(session_id, customer)


@router.get("/queues/{queue_id}/requests/{request_id}", **documented(answers.StandingReply, *AUTH))
async def waiting(queue_id: UUID, request_id: UUID, gw: Gw, who: Who) -> Reply:
    """R5: the customer's position in the queue and the estimated wait."""
    if who.session_id is None:
        raise Refusal(403, "not_yours", "only the customer who asked may see this request")
    standing = await gw.services(GetWaitingPosition, StandingReply, who, request_id=request_id)
    if who.session_id is None or who.session_id != standing.session_id:
        raise Refusal(403, "not_yours", "only the customer who asked may see this request")
    if standing.queue_id != queue_id:
        raise Refusal(404, "not_in_queue", "that request waits in another queue")
    return wire(standing)
