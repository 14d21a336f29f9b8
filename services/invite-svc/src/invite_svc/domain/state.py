"""The invitations of one session: the fold of stream ``invitations-<session id>``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import singledispatch
from uuid import UUID

from support_contracts import Envelope, Event, invite
from support_contracts.vocabulary import InviteeRole


@dataclass(frozen=True)
class Invitation:
    id: UUID
    role: InviteeRole
    channel: invite.Channel
    to: str | None
    expires_at: datetime
    issued_by: str
    tokens: frozenset[str] = frozenset()  # SHA-256 of every token that may have left
    accepted_by: tuple[str, ...] = ()
    revoked: bool = False
    attempts: int = 0
    sent: bool = False
    gave_up: str | None = None  # a permanent delivery failure, with the server's reason
    retry_at: datetime | None = None

    def open(self, now: datetime) -> bool:
        return not self.revoked and now <= self.expires_at

    def due_for_sending(self, now: datetime) -> bool:
        return (
            self.channel is invite.Channel.EMAIL
            and self.open(now)
            and not self.sent
            and self.gave_up is None
            and (self.retry_at is None or now >= self.retry_at)
        )


@dataclass(frozen=True)
class Invitations:
    session_id: UUID | None = None
    session_number: str | None = None
    invitations: dict[UUID, Invitation] = field(default_factory=dict)
    issued_by_command: dict[UUID, UUID] = field(default_factory=dict)  # command id -> invitation
    version: int = -1

    def by_token(self, token_sha256: str) -> Invitation | None:
        return next((i for i in self.invitations.values() if token_sha256 in i.tokens), None)


def fold(events: list[Envelope], start: Invitations | None = None) -> Invitations:
    """The state from recorded events; from ``start`` on when given (e.g. just appended)."""
    state = start or Invitations()
    for envelope in events:
        event = envelope.event()
        state = replace(evolve(event, state), version=envelope.stream_version)
        if isinstance(event, invite.InvitationIssued):  # so a command delivered twice issues once
            commands = {**state.issued_by_command, envelope.causation_id: event.invitation_id}
            state = replace(state, issued_by_command=commands)
    return state


def apply(state: Invitations, events: list[Event]) -> Invitations:
    for event in events:
        state = replace(evolve(event, state), version=state.version + 1)
    return state


def _changed(state: Invitations, invitation: Invitation) -> Invitations:
    return replace(state, invitations={**state.invitations, invitation.id: invitation})


@singledispatch
def evolve(event: Event, state: Invitations) -> Invitations:
    return state


@evolve.register
def _(event: invite.InvitationIssued, state: Invitations) -> Invitations:
    issued = Invitation(
        id=event.invitation_id,
        role=event.role,
        channel=event.channel,
        to=event.to,
        expires_at=event.expires_at,
        issued_by=event.issued_by,
        tokens=frozenset({event.token_sha256}) if event.token_sha256 else frozenset(),
    )
    state = replace(state, session_id=event.session_id, session_number=event.session_number)
    return _changed(state, issued)


@evolve.register
def _(event: invite.InvitationTokenMinted, state: Invitations) -> Invitations:
    invitation = state.invitations[event.invitation_id]
    minted = replace(
        invitation, tokens=invitation.tokens | {event.token_sha256}, attempts=event.attempt
    )
    return _changed(state, minted)


@evolve.register
def _(event: invite.InvitationSent, state: Invitations) -> Invitations:
    return _changed(state, replace(state.invitations[event.invitation_id], sent=True))


@evolve.register
def _(event: invite.InvitationDeliveryFailed, state: Invitations) -> Invitations:
    invitation = state.invitations[event.invitation_id]
    failed = replace(
        invitation, retry_at=event.retry_at, gave_up=event.reason if event.permanent else None
    )
    return _changed(state, failed)


@evolve.register
def _(event: invite.InvitationAccepted, state: Invitations) -> Invitations:
    invitation = state.invitations[event.invitation_id]
    accepted = replace(invitation, accepted_by=(*invitation.accepted_by, event.participant_id))
    return _changed(state, accepted)


@evolve.register
def _(event: invite.InvitationRevoked, state: Invitations) -> Invitations:
    return _changed(state, replace(state.invitations[event.invitation_id], revoked=True))
