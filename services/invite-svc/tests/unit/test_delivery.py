"""I3, the e-mail delivery: its watch list is snapshotted, and a delivery started anew takes it
from the latest snapshot and the events after it, forgetting none (issue 13, scale); an e-mail
the SMTP server took is not sent again because the log could not record it at that moment (a
database outage): the delivery remembers the reply and records it first when the log answers
again (issue 13: an e-mail sent twice around a PostgreSQL outage)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from eventlog import InMemoryEventStore, NewEvent, StreamState
from eventlog.memory import InMemoryTransaction
from invite_svc.delivery import EmailDelivery
from invite_svc.handlers import InviteHandlers
from invite_svc.mailer import SmtpMailer
from invite_svc.sessions import SessionDirectory
from support_testkit.mail import Mailbox, SmtpServer
from support_testkit.stores import CountingStore


def _event(event_type: str, **data: Any) -> NewEvent:
    return NewEvent(event_type, data, uuid4(), datetime.now(UTC), uuid4(), uuid4())


def _issued(invitation_id: UUID, session_id: UUID, channel: str = "email") -> NewEvent:
    return _event(
        "InvitationIssued", invitation_id=str(invitation_id), session_id=str(session_id),
        session_number="123456789", role="customer", channel=channel, to="c@example.com",
        token_sha256=None, issued_by="alice",
        expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    )  # fmt: skip


def _delivery(store: InMemoryEventStore, every: int = 10_000) -> EmailDelivery:
    async def nobody(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        raise AssertionError("not asked here")

    handlers = InviteHandlers(store, SessionDirectory(nobody), site_url="https://s.example")
    return EmailDelivery(handlers, SmtpMailer("smtp://127.0.0.1:1", "s@example.com"),
                         snapshot_every=every)  # fmt: skip


async def test_i3_a_new_delivery_starts_from_the_snapshot_and_forgets_no_email() -> None:
    store, sessions = CountingStore(), [uuid4() for _ in range(5)]
    ids = {s: [uuid4(), uuid4()] for s in sessions}
    for s in sessions:
        await store.append(f"invitations-{s}", [_issued(i, s) for i in ids[s]], StreamState.ANY)
    sent = ids[sessions[0]][0]
    settled = _event("InvitationSent", invitation_id=str(sent), attempt=1, server_reply="250 ok")
    await store.append(f"invitations-{sessions[0]}", [settled], 1)
    first = _delivery(store, every=5)
    await first.catch_up()
    assert await store.load_snapshot("delivery/v1") is not None
    late = uuid4()
    await store.append(f"invitations-{sessions[1]}", [_issued(late, sessions[1])], 1)
    store.read = 0
    again = _delivery(store)
    await again.catch_up()
    assert store.read == 1  # only what came after the snapshot
    assert again.pending == {**first.pending, sessions[1]: {*ids[sessions[1]], late}}
    assert sent not in again.pending[sessions[0]]


class OutageStore(InMemoryEventStore):
    """The log, refusing every write while ``down`` (as a PostgreSQL that went away does)."""

    down = False

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[InMemoryTransaction]:
        if self.down:
            raise ConnectionRefusedError("the database is down")
        async with super().transaction() as tx:
            yield tx


class DownOnDelivery(Mailbox):
    """Takes the e-mail, and the database goes down at that moment."""

    def __init__(self, store: OutageStore) -> None:
        super().__init__()
        self._store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self._store.down = True
        return await super().handle_DATA(server, session, envelope)


async def test_i3_an_email_taken_during_a_database_outage_is_recorded_not_sent_again() -> None:
    store = OutageStore()
    smtp = SmtpServer(DownOnDelivery(store)).up()
    try:
        session_id, invitation_id = uuid4(), uuid4()
        await store.append(
            f"invitations-{session_id}", [_issued(invitation_id, session_id)], StreamState.ANY
        )

        async def nobody(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
            raise AssertionError("not asked here")

        handlers = InviteHandlers(store, SessionDirectory(nobody), site_url="https://s.example")
        delivery = EmailDelivery(handlers, SmtpMailer(smtp.url, "support@example.com"))
        with pytest.raises(ConnectionRefusedError):
            await delivery.deliver_due()  # sent, then the record of it refused
        assert len(smtp.mailbox.messages) == 1
        store.down = False
        assert await delivery.deliver_due() == 0
        state = await handlers.invitations(session_id)
        assert state.invitations[invitation_id].sent
        assert state.invitations[invitation_id].attempts == 1
        assert len(smtp.mailbox.messages) == 1
        assert delivery.unrecorded == {}
    finally:
        smtp.down()
