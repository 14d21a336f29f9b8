"""invite-svc's doors: its commands over request/reply, and the session events it follows
through the inbox. Each only turns a message into a call."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventlog import ConcurrencyConflict, Transaction
from eventlog.inbox import Handler as EventHandler
from invite_svc.handlers import InviteHandlers, SystemCause
from support_contracts import COMMANDS, ContractViolation, Envelope
from support_contracts.invite import IssueInvitation, RedeemInvitation
from support_contracts.refusals import Refused
from support_rpc import Failure, RemoteError
from support_rpc.server import Handler

SESSION_EVENTS = ["session.SessionEnded"]


def command_handler(h: InviteHandlers) -> Handler:
    async def handle(command_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            cmd = COMMANDS.get(command_type).parse(payload)
        except ContractViolation as error:
            raise Failure(422, "invalid_command", str(error)) from error
        try:
            if isinstance(cmd, IssueInvitation):
                return await h.issue(cmd)
            if isinstance(cmd, RedeemInvitation):
                return await h.redeem(cmd)
        except Refused as refused:
            raise Failure(refused.status, refused.code, refused.message) from refused
        except RemoteError as remote:  # session-svc's answer, passed on as it is
            raise Failure(remote.status, remote.code, remote.message) from remote
        except ConcurrencyConflict as conflict:
            raise Failure(409, "version_conflict", f"{conflict}; try again") from conflict
        raise Failure(400, "unknown_command", f"invite-svc does not take {command_type}")

    return handle


def session_event_handler(h: InviteHandlers) -> EventHandler:
    """S10, I2: a session that ended revokes its open invitations, in the inbox's transaction."""

    async def on_event(envelope: Envelope, tx: Transaction) -> None:
        if envelope.type != "SessionEnded":
            return
        session_id = UUID(envelope.stream_id.removeprefix("session-"))
        cause = SystemCause(command_id=envelope.event_id, correlation_id=envelope.correlation_id)
        await h.revoke_all(tx, cause, session_id)

    return on_event
