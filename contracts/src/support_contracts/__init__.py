"""Shared contracts of the support services: events, commands, the envelope. No I/O here."""

from support_contracts.base import Command, ContractViolation, Event, Message
from support_contracts.catalog import COMMANDS, EVENTS, json_schemas
from support_contracts.envelope import EXCHANGE, Envelope, routing_key

__all__ = [
    "COMMANDS",
    "EVENTS",
    "EXCHANGE",
    "Command",
    "ContractViolation",
    "Envelope",
    "Event",
    "Message",
    "json_schemas",
    "routing_key",
]
