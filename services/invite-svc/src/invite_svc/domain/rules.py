"""The rules of invitations (I1-I4): one function per command. No I/O, clock or randomness:
the token's hash, the time and what session-svc says of the session come in."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from invite_svc.domain.state import Invitation, Invitations
from support_contracts import Event, invite
from support_contracts.refusals import BadCredentials, Invalid, NotAllowed, StateForbids
from support_contracts.vocabulary import InviteeRole

EMAIL_RETRY_FIRST = timedelta(seconds=5)
EMAIL_RETRY_MOST = timedelta(minutes=5)


def issue_invitation(
    s: Invitations,
    cmd: invite.IssueInvitation,
    *,
    invitation_id: UUID,
    token_sha256: str | None,
    session_number: str,
    session_live: bool,
    controller: str | None,
    now: datetime,
    ttl: timedelta,
) -> list[Event]:
    """I1, I4: the participant with control invites, by any channel, as often as needed."""
    if not session_live:
        raise StateForbids("session_ended", "the session has ended; nobody can be invited to it")
    if cmd.actor_id is None or cmd.actor_id != controller:
        raise NotAllowed("not_controller", "only the participant with control invites")
    if cmd.channel is invite.Channel.EMAIL and (not cmd.to or "@" not in cmd.to):
        raise Invalid("email_needs_address", "give the e-mail address to send the invitation to")
    return [
        invite.InvitationIssued(
            invitation_id=invitation_id,
            session_id=cmd.session_id,
            session_number=session_number,
            role=cmd.role,
            channel=cmd.channel,
            to=cmd.to,
            token_sha256=token_sha256,
            expires_at=now + ttl,
            issued_by=cmd.actor_id,
        )
    ]


def new_token(s: Invitations, invitation_id: UUID, token_sha256: str) -> list[Event]:
    """A repeated issue command: the same invitation, with a token the caller can be given
    (the first one is known only by its hash)."""
    invitation = s.invitations[invitation_id]
    return [
        invite.InvitationTokenMinted(
            invitation_id=invitation_id, token_sha256=token_sha256, attempt=invitation.attempts + 1
        )
    ]


def check_token(s: Invitations, token_sha256: str, *, now: datetime) -> Invitation:
    """I2: which invitation a token opens, or why it opens none (and nothing changes)."""
    invitation = s.by_token(token_sha256)
    if invitation is None:
        raise BadCredentials("unknown_token", "this invitation link is not valid")
    if invitation.revoked:
        raise StateForbids("revoked", "this invitation was withdrawn: the session has ended")
    if now > invitation.expires_at:
        raise BadCredentials("expired", "this invitation has expired; ask for a new one")
    if invitation.role is InviteeRole.CSR and invitation.accepted_by:
        raise StateForbids("used", "this invitation for a csr has been used already")
    return invitation


def accept_invitation(
    s: Invitations, token_sha256: str, *, participant_id: str, now: datetime
) -> list[Event]:
    invitation = check_token(s, token_sha256, now=now)
    return [invite.InvitationAccepted(invitation_id=invitation.id, participant_id=participant_id)]


def revoke_all(s: Invitations, reason: invite.RevokeReason) -> list[Event]:
    """S10, I2: when the session ends every invitation still open is revoked."""
    return [
        invite.InvitationRevoked(invitation_id=i.id, reason=reason)
        for i in s.invitations.values()
        if not i.revoked
    ]


# --- I3: delivery of system e-mail --------------------------------------------------------------


def mint_for_sending(
    s: Invitations, invitation_id: UUID, token_sha256: str, *, now: datetime
) -> list[Event]:
    """Before each attempt: the token in this e-mail works from now, whatever happens next."""
    invitation = s.invitations[invitation_id]
    if not invitation.due_for_sending(now):
        return []
    return [
        invite.InvitationTokenMinted(
            invitation_id=invitation_id, token_sha256=token_sha256, attempt=invitation.attempts + 1
        )
    ]


def sent(s: Invitations, invitation_id: UUID, server_reply: str) -> list[Event]:
    """The server took the e-mail of the latest attempt; said once."""
    if s.invitations[invitation_id].sent:
        return []
    attempt = s.invitations[invitation_id].attempts
    return [
        invite.InvitationSent(
            invitation_id=invitation_id, attempt=attempt, server_reply=server_reply[:1000]
        )
    ]


def delivery_failed(
    s: Invitations, invitation_id: UUID, reason: str, *, permanent: bool, now: datetime
) -> list[Event]:
    """A temporary failure is retried later, each wait twice the last (5 s up to 5 min), until
    the invitation expires; a permanent one is recorded with the server's reason and ends it."""
    invitation = s.invitations[invitation_id]
    wait = min(EMAIL_RETRY_MOST, EMAIL_RETRY_FIRST * 2 ** max(invitation.attempts - 1, 0))
    retry_at = None if permanent else now + wait
    if retry_at is not None and retry_at > invitation.expires_at:
        permanent, retry_at = True, None
        reason = f"{reason} (no retry: the invitation expires first)"
    return [
        invite.InvitationDeliveryFailed(
            invitation_id=invitation_id,
            attempt=invitation.attempts,
            reason=reason[:1000],
            permanent=permanent,
            retry_at=retry_at,
        )
    ]
