"""I3: system e-mail is delivered to the SMTP server or recorded as failed with the reason,
and retried; no invitation is lost while the server is down, and none is sent again because
an event was delivered twice: what to send is read from the log, not from messages.

The delivery keeps the e-mail invitations not yet settled: a projection of the log, rebuilt
when the service starts from its latest snapshot (``delivery/v1``, every 10,000 events) and the
events after it. Each attempt first records the hash of a new token
(``InvitationTokenMinted``), then sends, then records the outcome; it runs in one replica at a
time (the log's exclusive lock). An e-mail the server took whose ``InvitationSent`` could not be
recorded (a database outage, a lost lock) is remembered and recorded first when the log answers
again, before anything is sent: it is not sent a second time. Only a process killed between the
server's reply and that record leaves the attempt in doubt, and then it is sent again, with the
invitation's one Message-ID."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

import structlog

from eventlog import keep_turning, lead
from eventlog.model import Cause, SystemCause
from eventlog.snapshots import Snapshots, catch_up
from invite_svc import channels, tokens
from invite_svc.domain import rules
from invite_svc.domain.state import Invitations
from invite_svc.handlers import Decision, InviteHandlers, after
from invite_svc.mailer import Mailer, PermanentFailure, TemporaryFailure
from support_contracts import Envelope, Event

log = structlog.get_logger(__name__)

SETTLED = {"InvitationSent", "InvitationRevoked"}


class EmailDelivery:
    def __init__(
        self,
        handlers: InviteHandlers,
        mailer: Mailer,
        *,
        every_seconds: float = 1.0,
        snapshot_every: int = 10_000,
    ) -> None:
        self._h, self._mailer, self._every = handlers, mailer, every_seconds
        self.pending: dict[UUID, set[UUID]] = {}  # session -> e-mail invitations not settled
        self.position = -1
        # (session, invitation) -> the attempt's cause and the server's reply, not yet recorded
        self.unrecorded: dict[tuple[UUID, UUID], tuple[Cause, str]] = {}
        self._snapshots = Snapshots(handlers.store, "delivery/v1", every_events=snapshot_every)

    async def catch_up(self) -> None:
        await catch_up(self._h.store, self, self._snapshots)

    async def dump(self) -> bytes:
        pending = {str(s): [str(i) for i in invitations] for s, invitations in self.pending.items()}
        return json.dumps(pending).encode()

    def restore(self, position: int, state: bytes) -> None:
        pending = json.loads(state)
        self.pending = {UUID(s): {UUID(i) for i in ids} for s, ids in pending.items()}
        self.position = position

    def apply(self, event: Envelope) -> None:
        self.position = event.global_position
        if not event.stream_id.startswith("invitations-"):
            return
        session_id = UUID(event.stream_id.removeprefix("invitations-"))
        invitation_id = UUID(str(event.data["invitation_id"]))
        if event.type == "InvitationIssued" and event.data["channel"] == "email":
            self.pending.setdefault(session_id, set()).add(invitation_id)
        elif event.type in SETTLED or (
            event.type == "InvitationDeliveryFailed" and event.data["permanent"]
        ):
            self.pending.get(session_id, set()).discard(invitation_id)

    async def deliver_due(self) -> int:
        """Try every e-mail that is due now; how many were handed to the server. What can no
        longer be sent (expired, revoked) leaves the watch list."""
        await self.catch_up()
        for (session_id, invitation_id), (cause, reply) in list(self.unrecorded.items()):
            await self._record_sent(cause, session_id, invitation_id, reply)
        delivered, now = 0, self._h.now()
        for session_id, invitations in list(self.pending.items()):
            state = await self._h.invitations(session_id)
            for invitation_id in list(invitations):
                invitation = state.invitations[invitation_id]
                if not invitation.open(now):
                    invitations.discard(invitation_id)
                elif invitation.due_for_sending(now):
                    delivered += await self._attempt(state, session_id, invitation_id)
            if not invitations:
                del self.pending[session_id]
        return delivered

    async def _attempt(self, state: Invitations, session_id: UUID, invitation_id: UUID) -> int:
        invitation = state.invitations[invitation_id]
        token, digest = tokens.mint(session_id)
        cause = SystemCause(command_id=uuid4(), correlation_id=uuid4())
        minted = await self._record(
            cause,
            session_id,
            lambda s: rules.mint_for_sending(s, invitation_id, digest, now=self._h.now()),
        )
        if not minted:
            return 0
        attempt = minted.invitations[invitation_id].attempts
        letter = channels.letter(
            site_url=self._h.site_url,
            session_number=state.session_number or "",
            link=channels.join_link(self._h.site_url, token),
            role=invitation.role,
        )
        bound = log.bind(invitation_id=str(invitation_id), session_id=str(session_id))
        try:
            # one Message-ID per invitation: a resend (a reply not recorded, say, around a
            # database outage) is recognisable as the same message by every mail program
            reply = await self._mailer.send(
                invitation.to or "", letter, message_id=f"<{invitation_id}@support>"
            )
        except (TemporaryFailure, PermanentFailure) as failure:
            reason, permanent = str(failure), isinstance(failure, PermanentFailure)
            bound.warning("invitation.delivery_failed", reason=reason, permanent=permanent)

            def failed(s: Invitations) -> list[Event]:
                return rules.delivery_failed(
                    s, invitation_id, reason, permanent=permanent, now=self._h.now()
                )

            await self._record(cause, session_id, failed)
            return 0
        self.unrecorded[(session_id, invitation_id)] = (cause, reply)
        bound.info("invitation.sent", attempt=attempt)
        await self._record_sent(cause, session_id, invitation_id, reply)
        return 1

    async def _record_sent(
        self, cause: Cause, session_id: UUID, invitation_id: UUID, reply: str
    ) -> None:
        await self._record(cause, session_id, lambda s: rules.sent(s, invitation_id, reply))
        del self.unrecorded[(session_id, invitation_id)]

    async def _record(self, cause: Cause, session_id: UUID, decide: Decision) -> Invitations | None:
        """The state after recording what ``decide`` says, or None when it said nothing."""
        written = await self._h.record(cause, session_id, decide)
        return after(written) if written.recorded else None

    async def run(self) -> None:
        """Deliver until cancelled, in one replica at a time; wakes when the log grows."""
        await lead(self._h.store, "email-delivery", self._delivering)

    async def _delivering(self) -> None:
        async def turn() -> None:
            await self.deliver_due()
            await self._h.store.wait_for_events(self.position, self._every)

        await keep_turning(turn, failed="email_delivery.retrying", retry_seconds=self._every)
