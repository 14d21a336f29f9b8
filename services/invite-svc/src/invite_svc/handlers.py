"""The recipe for invitations: the invitations of one session are one stream
``invitations-<session id>``; load, fold, decide, append with the expected version, retried on
a conflict. What each channel hands back is rendered here, from the token made now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from pydantic import BaseModel

from eventlog import EventStore, Stream, Transaction, Written, utc_now, write, write_in
from eventlog.model import Cause
from invite_svc import channels, tokens
from invite_svc.domain import rules
from invite_svc.domain.state import Invitations, fold
from invite_svc.sessions import SessionDirectory
from support_contracts import Command, Event
from support_contracts.invite import Channel, IssueInvitation, RedeemInvitation, RevokeReason
from support_contracts.refusals import NotAllowed, StateForbids
from support_contracts.replies import InvitationReply, RedeemedReply
from support_contracts.vocabulary import InviteeRole

log = structlog.get_logger(__name__)

TOKEN_CHANNELS = {Channel.OWN_EMAIL, Channel.INSTANT_MESSAGE}

Decision = Callable[[Invitations], list[Event]]


def invitations_stream(session_id: UUID) -> str:
    return f"invitations-{session_id}"


def _stream(session_id: UUID) -> Stream[Invitations]:
    return Stream(invitations_stream(session_id), fold)


def after(written: Written[Invitations]) -> Invitations:
    """The invitations once what was written is folded in."""
    return fold(written.recorded, written.before)


class InviteHandlers:
    def __init__(
        self,
        store: EventStore,
        sessions: SessionDirectory,
        *,
        site_url: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store, self.sessions, self.site_url, self.now = store, sessions, site_url, clock

    async def run(self, cmd: Cause, session_id: UUID, decide: Decision) -> Invitations:
        """The invitations after the recipe, in a transaction of its own."""
        return after(await self.record(cmd, session_id, decide))

    async def record(self, cmd: Cause, session_id: UUID, decide: Decision) -> Written[Invitations]:
        return await write(self.store, _stream(session_id), decide, cmd, clock=self.now)

    async def decide_and_record(
        self, tx: Transaction, cmd: Cause, session_id: UUID, decide: Decision
    ) -> Invitations:
        """The recipe in a transaction someone else owns (the inbox's)."""
        return after(await write_in(tx, _stream(session_id), decide, cmd, now=self.now()))

    async def invitations(self, session_id: UUID) -> Invitations:
        return fold(await self.store.read_stream(invitations_stream(session_id)))

    # --- I1, I4, S3: issuing --------------------------------------------------------------------

    async def issue(self, cmd: IssueInvitation) -> InvitationReply:
        repeated = (await self.invitations(cmd.session_id)).issued_by_command.get(cmd.command_id)
        if repeated is not None:
            return await self._issue_again(cmd, repeated)
        session = await self.sessions.session(cmd.session_id)
        ttl = await self.sessions.invitation_ttl()
        token, digest = tokens.mint(cmd.session_id) if cmd.channel in TOKEN_CHANNELS else ("", None)
        invitation_id, now = uuid4(), self.now()

        def decide(s: Invitations) -> list[Event]:
            return rules.issue_invitation(
                s,
                cmd,
                invitation_id=invitation_id,
                token_sha256=digest,
                session_number=session.number,
                session_live=session.live,
                controller=session.controller,
                now=now,
                ttl=ttl,
            )

        state = await self.run(cmd, cmd.session_id, decide)
        return self._reply(cmd, state, invitation_id, token)

    async def _issue_again(self, cmd: IssueInvitation, invitation_id: UUID) -> InvitationReply:
        """The same command delivered again: the invitation it issued, nothing sent twice."""
        token, digest = tokens.mint(cmd.session_id) if cmd.channel in TOKEN_CHANNELS else ("", None)

        def decide(s: Invitations) -> list[Event]:
            return rules.new_token(s, invitation_id, digest) if digest else []

        state = await self.run(cmd, cmd.session_id, decide)
        return self._reply(cmd, state, invitation_id, token)

    def _reply(
        self, cmd: IssueInvitation, state: Invitations, invitation_id: UUID, token: str
    ) -> InvitationReply:
        invitation = state.invitations[invitation_id]
        return InvitationReply(
            invitation_id=invitation_id,
            channel=cmd.channel,
            role=cmd.role,
            expires_at=invitation.expires_at,
            **self._hand_over(cmd, state.session_number or "", token),
        )

    def _hand_over(self, cmd: IssueInvitation, number: str, token: str) -> dict[str, Any]:
        """The reply's fields of the channel (only they are on the wire)."""
        if cmd.channel is Channel.EMAIL:
            return {"delivery": "queued", "to": cmd.to}
        if cmd.channel is Channel.WEBSITE:
            return {"website": channels.website(self.site_url, number, cmd.role)}
        link = channels.join_link(self.site_url, token)
        if cmd.channel is Channel.INSTANT_MESSAGE:
            return {"join_url": link, "instant_message": channels.instant_message(link, number)}
        draft = channels.letter(
            site_url=self.site_url, session_number=number, link=link, role=cmd.role
        )
        return {"join_url": link, "draft": channels.own_email(cmd.to, draft)}

    # --- I2: joining with a token ---------------------------------------------------------------

    async def redeem(self, cmd: RedeemInvitation) -> RedeemedReply:
        """Check the token, have session-svc add the participant, record the acceptance. Two
        csrs racing with one single-use token: the acceptance recorded second fails the
        version check, and that csr is taken out of the session again."""
        session_id, digest = tokens.session_of(cmd.token), tokens.digest(cmd.token)
        invitation = rules.check_token(await self.invitations(session_id), digest, now=self.now())
        if invitation.role is InviteeRole.CSR:
            if not cmd.actor_id:
                raise NotAllowed("sign_in", "sign in as a csr to use an invitation to assist")
            participant = await self.sessions.join_as_assistant(
                session_id, cmd.actor_id, cmd.name, invitation.id, cmd.correlation_id
            )
        else:
            participant = await self.sessions.join_as_customer(
                session_id, cmd.name, invitation.id, cmd.correlation_id
            )

        def decide(s: Invitations) -> list[Event]:
            return rules.accept_invitation(s, digest, participant_id=participant, now=self.now())

        try:
            await self.run(cmd, session_id, decide)
        except StateForbids:
            try:  # undo the join; if that fails too, the refusal still goes back as it was
                await self.sessions.leave(session_id, participant, cmd.correlation_id)
            except Exception as error:
                log.warning(
                    "invitation.join_not_undone",
                    session_id=str(session_id),
                    participant_id=participant,
                    error=repr(error),
                )
            raise
        return RedeemedReply(
            session_id=session_id, participant_id=participant, role=invitation.role
        )

    # --- S10: the session ended -----------------------------------------------------------------

    async def revoke_all(self, tx: Transaction, cmd: Cause, session_id: UUID) -> None:
        def decide(s: Invitations) -> list[Event]:
            return rules.revoke_all(s, RevokeReason.SESSION_ENDED)

        await self.decide_and_record(tx, cmd, session_id, decide)


HANDLERS: dict[type[Command], Callable[[InviteHandlers, Any], Awaitable[BaseModel]]] = {
    IssueInvitation: InviteHandlers.issue,
    RedeemInvitation: InviteHandlers.redeem,
}
