"""The service's doors: commands and queries over request/reply, and the routing events it
follows through the inbox. Each only turns a message into a command."""

from __future__ import annotations

import structlog
from pydantic import BaseModel

from eventlog import ConcurrencyConflict, Transaction
from eventlog.inbox import Handler as EventHandler
from eventlog.outages import is_outage
from session_svc import service
from session_svc.domain import Refused, Session, rules
from session_svc.handlers import SessionHandlers
from support_contracts import Command, Envelope, Event
from support_contracts.routing import OfferAccepted
from support_contracts.session import AssignAgent
from support_contracts.topology import SUBSCRIPTIONS
from support_rpc.door import command_door
from support_rpc.server import Handler

log = structlog.get_logger(__name__)

ROUTING_EVENTS = list(SUBSCRIPTIONS["session-svc"].routing_keys)  # R6: what it follows


def command_handler(h: SessionHandlers) -> Handler:
    async def execute(cmd: Command) -> BaseModel:
        return await service.execute(h, cmd)

    return command_door(
        "session-svc",
        service.HANDLERS,
        execute,
        conflicts=(ConcurrencyConflict,),
        outages=is_outage,
    )


def routing_event_handler(h: SessionHandlers) -> EventHandler:
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
