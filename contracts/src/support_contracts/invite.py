"""Invitations (rules I1-I4, S3): events recorded by invite-svc and the commands it takes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from support_contracts.base import Command, Event
from support_contracts.vocabulary import (
    DisplayName,
    InviteeRole,
    ParticipantId,
    SessionNumber,
    UserId,
)


class InviteEvent(Event):
    context: ClassVar[str] = "invite"


class InviteCommand(Command):
    context: ClassVar[str] = "invite"


class Channel(StrEnum):
    EMAIL = "email"
    OWN_EMAIL = "own_email"
    WEBSITE = "website"
    INSTANT_MESSAGE = "instant_message"


class RevokeReason(StrEnum):
    SESSION_ENDED = "session_ended"
    USED = "used"


class InvitationIssued(InviteEvent):
    """For the own-mail-program and instant-message channels the token is made now and given
    to the issuer (only its hash is kept); an e-mail's token is made when it is sent
    (``InvitationTokenMinted``); the website channel has none (the invitee types the number)."""

    invitation_id: UUID
    session_id: UUID
    session_number: SessionNumber
    role: InviteeRole
    channel: Channel
    to: str | None = Field(default=None, max_length=320)
    token_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    expires_at: datetime
    issued_by: UserId


class InvitationTokenMinted(InviteEvent):
    """Recorded before each attempt to send an e-mail: the link in that e-mail works from now."""

    invitation_id: UUID
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    attempt: int = Field(ge=1)


class InvitationSent(InviteEvent):
    invitation_id: UUID
    attempt: int = Field(ge=1)
    server_reply: str = Field(max_length=1000)


class InvitationDeliveryFailed(InviteEvent):
    invitation_id: UUID
    attempt: int = Field(ge=1)
    reason: str = Field(max_length=1000)
    permanent: bool
    retry_at: datetime | None = None


class InvitationAccepted(InviteEvent):
    invitation_id: UUID
    participant_id: ParticipantId


class InvitationRevoked(InviteEvent):
    invitation_id: UUID
    reason: RevokeReason


INVITE_EVENTS: tuple[type[InviteEvent], ...] = (
    InvitationIssued,
    InvitationTokenMinted,
    InvitationSent,
    InvitationDeliveryFailed,
    InvitationAccepted,
    InvitationRevoked,
)


class IssueInvitation(InviteCommand):
    session_id: UUID
    role: InviteeRole
    channel: Channel
    to: str | None = Field(default=None, max_length=320)


class RedeemInvitation(InviteCommand):
    token: str = Field(min_length=16, max_length=200)
    name: DisplayName


INVITE_COMMANDS: tuple[type[InviteCommand], ...] = (IssueInvitation, RedeemInvitation)
