"""invite-svc's doors: its commands over request/reply, and the session events it follows
through the inbox. Each only turns a message into a call."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel

from eventlog import ConcurrencyConflict, Transaction
from eventlog.inbox import Handler as EventHandler
from eventlog.model import SystemCause
from eventlog.outages import is_outage
from invite_svc.handlers import InviteHandlers
from support_contracts import Command, Envelope
from support_contracts.invite import IssueInvitation, RedeemInvitation
from support_contracts.topology import SUBSCRIPTIONS
from support_rpc.door import command_door
from support_rpc.server import Handler

SESSION_EVENTS = list(SUBSCRIPTIONS["invite-svc"].routing_keys)  # S10: what it follows


def command_handler(h: InviteHandlers) -> Handler:
    async def execute(cmd: Command) -> BaseModel:
        if isinstance(cmd, IssueInvitation):
            return await h.issue(cmd)
        assert isinstance(cmd, RedeemInvitation)
        return await h.redeem(cmd)

    takes = (IssueInvitation, RedeemInvitation)
    return command_door(
        "invite-svc",
        dict.fromkeys(takes),
        execute,
        conflicts=(ConcurrencyConflict,),
        outages=is_outage,
    )


def session_event_handler(h: InviteHandlers) -> EventHandler:
    """S10, I2: a session that ended revokes its open invitations, in the inbox's transaction."""

    async def on_event(envelope: Envelope, tx: Transaction) -> None:
        if envelope.type != "SessionEnded":
            return
        session_id = UUID(envelope.stream_id.removeprefix("session-"))
        cause = SystemCause(command_id=envelope.event_id, correlation_id=envelope.correlation_id)
        await h.revoke_all(tx, cause, session_id)

    return on_event
