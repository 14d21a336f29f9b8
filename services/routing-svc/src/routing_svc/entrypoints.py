"""routing-svc's doors: commands and queries over request/reply, and the session events it
follows through the inbox. Each only turns a message into a call."""

from __future__ import annotations

from pydantic import BaseModel

from eventlog import ConcurrencyConflict, Transaction
from eventlog.inbox import Handler as EventHandler
from eventlog.outages import is_outage
from routing_svc import service
from routing_svc.handlers import RoutingHandlers
from support_contracts import Command, Envelope
from support_rpc.door import command_door
from support_rpc.server import Handler


def command_handler(routing: service.Routing) -> Handler:
    async def execute(cmd: Command) -> BaseModel:
        return await service.execute(routing, cmd)

    return command_door(
        "routing-svc",
        service.HANDLERS,
        execute,
        conflicts=(ConcurrencyConflict,),
        outages=is_outage,
    )


def session_event_handler(h: RoutingHandlers) -> EventHandler:
    """Hand-offs and entry-form sessions queue a task; an ended session leaves routing."""

    async def on_event(envelope: Envelope, tx: Transaction) -> None:
        await h.on_session_event(envelope, tx)

    return on_event
