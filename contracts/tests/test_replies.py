"""Issue 15.4: a reply model on the wire has the fields that were set, so an optional field that
does not apply is absent (as the services' replies were before they were models), while the
contracts' own models inside it are written whole."""

from __future__ import annotations

from datetime import time
from uuid import uuid4

from support_contracts.replies import Agent, AgentReply, InvitationReply, QueueReply
from support_contracts.routing import OpeningHours, QueueDefinition
from support_contracts.vocabulary import AgentStatus


def test_a_reply_carries_what_was_set_and_reads_back_the_same() -> None:
    agent = AgentReply(
        agent=Agent(
            agent_id="ann", name="Ann", max_sessions=2, status=AgentStatus.AWAY, sessions=[]
        )
    )
    dumped = agent.model_dump(mode="json")
    assert dumped == {
        "agent": {
            "agent_id": "ann",
            "name": "Ann",
            "max_sessions": 2,
            "status": "away",
            "sessions": [],
        }
    }  # no offers, no eligible: GetAgent's, not ConfigureAgent's
    assert AgentReply.model_validate(dumped).model_dump(mode="json") == dumped
    offered = Agent.model_validate({**dumped["agent"], "offers": [], "eligible": None})
    assert offered.model_dump(mode="json")["eligible"] is None  # set, if to null: kept


def test_the_contracts_models_inside_a_reply_are_written_whole() -> None:
    definition = QueueDefinition(
        name="Printers",
        agent_ids=["ann"],
        policy="most_idle",
        time_zone="Europe/Prague",
        hours=[OpeningHours(weekday=0, opens=time(8), closes=time(17))],
        escalation_seconds=60,
        offer_timeout_seconds=30,
    )
    queue_id = uuid4()
    dumped = QueueReply(queue_id=queue_id, definition=definition).model_dump(mode="json")
    assert set(dumped) == {"queue_id", "definition"}  # no open, waiting, agents_free
    assert dumped["definition"] == definition.model_dump(mode="json")


def test_an_invitation_reply_has_only_its_channel_s_fields() -> None:
    reply = InvitationReply(
        invitation_id=uuid4(),
        channel="email",
        role="customer",
        expires_at="2026-12-05T10:00:00+00:00",
        delivery="queued",
        to="dana@example.com",
    )
    assert set(reply.model_dump(mode="json")) == {
        "invitation_id", "channel", "role", "expires_at", "delivery", "to",
    }  # fmt: skip
