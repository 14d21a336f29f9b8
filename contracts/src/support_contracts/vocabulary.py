"""Words of the product shared by several contexts: ids, session numbers, roles, activities."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, Strict, StringConstraints

SESSION_NUMBER_DIGITS = 9
HANDOFF_MESSAGE_MAX = 345

SessionNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{9}$")]
"""Nine digits, stored without spaces; shown with :func:`format_session_number`."""

UserId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""A csr, agent or admin as the identity provider names them (the token's ``sub``)."""

ParticipantId = Annotated[str, StringConstraints(min_length=1, max_length=200)]
"""A participant of a session: a csr's user id, or a customer's id given on joining."""

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
HandOffMessage = Annotated[str, StringConstraints(max_length=HANDOFF_MESSAGE_MAX)]
StatusReason = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
"""Why an agent is away or offline (R12): a word of the site's list, ``lunch``, ``training``."""
Priority = Annotated[int, Strict(), Field(ge=1, le=9)]
"""A waiting session's priority (R10): 1 is offered first; 5 when none is given."""
WrapUpCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
"""What came of a session, as an agent records it in its wrap-up (R11): ``resolved``..."""
SkillName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
"""A skill an agent has and a session needs (R9): ``billing``, ``spanish``, ``windows``."""
Proficiency = Annotated[int, Strict(), Field(ge=1, le=5)]
"""How well an agent has a skill (R9), 1 to 5; a queue's minimum is one of these too."""
NOT_RESPONDING = "not_responding"
"""R13: the reason routing gives when it sets away an agent who let offers expire."""
EmailAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320),
]


def format_session_number(number: str) -> str:
    """``123456789`` -> ``123 456 789``, the way people read and type it."""
    return f"{number[0:3]} {number[3:6]} {number[6:9]}"


def parse_session_number(text: str) -> str:
    """What a person typed (spaces or dashes allowed) -> nine digits, or ValueError."""
    digits = "".join(ch for ch in text if ch not in " -")
    if len(digits) != SESSION_NUMBER_DIGITS or not all(ch in "0123456789" for ch in digits):
        raise ValueError(f"a session number has {SESSION_NUMBER_DIGITS} digits, got {text!r}")
    return digits


class Role(StrEnum):
    CONTROLLER = "controller"
    ASSISTANT = "assistant"
    CUSTOMER = "customer"


class InviteeRole(StrEnum):
    CUSTOMER = "customer"
    CSR = "csr"


class ActivityKind(StrEnum):
    DESKTOP_SHARING = "desktop_sharing"
    APPLICATION_SHARING = "application_sharing"
    FILE_TRANSFER = "file_transfer"
    CHAT = "chat"
    VIDEO = "video"
    RECORDING = "recording"
    VOICE = "voice"


class SessionMode(StrEnum):
    SINGLE = "single"
    MULTI = "multi"


class AgentStatus(StrEnum):
    AVAILABLE = "available"
    AWAY = "away"
    OFFLINE = "offline"


class RoutingPolicy(StrEnum):
    MOST_IDLE = "most_idle"
    ROUND_ROBIN = "round_robin"
    EVERYBODY = "everybody"
    LEAST_BUSY = "least_busy"
