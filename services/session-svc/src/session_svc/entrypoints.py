"""session-svc's door for the routing events it follows through the inbox: each only turns a
message into a command. Its commands and queries come in through its handler table
(``handlers.HANDLERS``, served by the host's ``serve_table``)."""

from __future__ import annotations

import structlog

from eventlog import Transaction
from eventlog.inbox import Handler as EventHandler
from session_svc.domain import Refused, Session, rules
from session_svc.writing import SessionLog
from support_contracts import Envelope, Event
from support_contracts.routing import OfferAccepted
from support_contracts.session import AssignAgent
from support_contracts.topology import SUBSCRIPTIONS

log = structlog.get_logger(__name__)

ROUTING_EVENTS = list(SUBSCRIPTIONS["session-svc"].routing_keys)  # R6: what it follows


def routing_event_handler(h: SessionLog) -> EventHandler:
    """R6: an accepted offer makes its agent the controller, in the inbox's transaction."""

    async def on_event(envelope: Envelope, tx: Transaction) -> None:
        event = envelope.event()
        if not isinstance(event, OfferAccepted):
            return
        cmd = AssignAgent(
            command_id=envelope.event_id,  # the event caused it
            correlation_id=envelope.correlation_id,
            actor_id="routing-svc",
            session_id=event.session_id,
            agent_id=event.agent_id,
            agent_name=event.agent_name,
            offer_id=event.offer_id,
        )

        async def decide(s: Session, _: Transaction) -> list[Event]:
            return rules.assign_agent(s, cmd)

        try:
            await h.decide_and_record(tx, cmd, event.session_id, decide)
        except Refused as refused:  # e.g. the session ended while it waited: nothing to do
            log.info(
                "session.assignment_refused",
                session_id=str(event.session_id),
                reason=refused.message,
            )

    return on_event
