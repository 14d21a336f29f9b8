"""invite-svc's door for the session events it follows through the inbox: it only turns a
message into a call. Its commands come in through its handler table (``handlers.HANDLERS``,
served by the host's ``serve_table``)."""

from __future__ import annotations

from uuid import UUID

from eventlog import Transaction
from eventlog.inbox import Handler as EventHandler
from eventlog.model import SystemCause
from invite_svc.handlers import InviteHandlers
from support_contracts import Envelope
from support_contracts.session import SessionEnded
from support_contracts.topology import SUBSCRIPTIONS

SESSION_EVENTS = list(SUBSCRIPTIONS["invite-svc"].routing_keys)  # S10: what it follows
# most sessions end with no invitation open: the inbox looks first whether an end revokes
# anything, one read, before it opens a transaction and records it (issue 19); the handler's
# only effect is its append, as looking first asks
LOOKED_AT_FIRST = frozenset({SessionEnded.event_type()})


def session_event_handler(h: InviteHandlers) -> EventHandler:
    """S10, I2: a session that ended revokes its open invitations, in the inbox's transaction."""

    async def on_event(envelope: Envelope, tx: Transaction) -> None:
        if envelope.type != SessionEnded.event_type():
            return
        session_id = UUID(envelope.stream_id.removeprefix("session-"))
        cause = SystemCause(command_id=envelope.event_id, correlation_id=envelope.correlation_id)
        await h.revoke_all(tx, cause, session_id)

    return on_event
