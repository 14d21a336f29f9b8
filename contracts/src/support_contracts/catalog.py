"""Every event and command type, by name: what the envelope's ``type`` may say."""

from __future__ import annotations

from typing import Any

from support_contracts.base import Command, Event, Registry
from support_contracts.invite import INVITE_COMMANDS, INVITE_EVENTS
from support_contracts.relay import RELAY_EVENTS
from support_contracts.routing import ROUTING_COMMANDS, ROUTING_EVENTS
from support_contracts.session import SESSION_COMMANDS, SESSION_EVENTS

EVENTS: Registry[Event] = Registry("event")
EVENTS.add(*SESSION_EVENTS, *INVITE_EVENTS, *ROUTING_EVENTS, *RELAY_EVENTS)

COMMANDS: Registry[Command] = Registry("command")
COMMANDS.add(*SESSION_COMMANDS, *INVITE_COMMANDS, *ROUTING_COMMANDS)


def json_schemas() -> dict[str, Any]:
    """JSON Schema of every event's ``data`` and every command, keyed by routing key / name."""
    events = {cls.routing_key(): cls.json_schema() for cls in EVENTS.classes()}
    commands = {f"{cls.context}.{cls.__name__}": cls.json_schema() for cls in COMMANDS.classes()}
    return {"events": events, "commands": commands}
