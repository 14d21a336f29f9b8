"""routing-svc's door for the session events it follows through the inbox: it only turns a
message into a call. Its commands and queries come in through its handler table
(``handlers.HANDLERS``, served by the host's ``serve_table``)."""

from __future__ import annotations

from eventlog import Transaction
from eventlog.inbox import Handler as EventHandler
from routing_svc.writing import RoutingLog
from support_contracts import Envelope


def session_event_handler(h: RoutingLog) -> EventHandler:
    """Hand-offs and entry-form sessions queue a task; an ended session leaves routing."""

    async def on_event(envelope: Envelope, tx: Transaction) -> None:
        await h.on_session_event(envelope, tx)

    return on_event
