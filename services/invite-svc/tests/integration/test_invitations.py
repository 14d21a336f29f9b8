"""Invitations end to end: session-svc and invite-svc running on RabbitMQ and PostgreSQL, a
real SMTP server (aiosmtpd) in the test process, and a fake clock (I1-I4, S10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from eventlog import Transaction
from invite_svc.bootstrap import InviteService
from invite_svc.bootstrap import start as start_invite_svc
from invite_svc.settings import Settings as InviteSettings
from session_svc.bootstrap import SessionService
from support_contracts.refusals import Refusal
from support_rpc import RpcClient
from support_testkit import eventually
from support_testkit.clock import FakeClock
from support_testkit.mail import Mailbox, SmtpServer
from support_testkit.plugin import SettingsFor, fresh_schema
from support_testkit.wire import wire_call

pytestmark = pytest.mark.integration
SITE = "https://support.example.com"


@dataclass
class Stack:
    client: RpcClient
    sessions: SessionService
    invites: InviteService
    smtp: SmtpServer
    clock: FakeClock

    @property
    def mailbox(self) -> Mailbox:
        return self.smtp.mailbox

    def smtp_down(self) -> None:
        self.smtp.down()

    def smtp_up(self) -> None:
        self.smtp.up()

    async def _call(
        self, queue: str, kind: str, actor: str | None, **fields: Any
    ) -> dict[str, Any]:
        return await wire_call(self.client, queue, actor=actor, within_seconds=5)(kind, **fields)

    async def session_call(self, kind: str, actor: str | None, **fields: Any) -> dict[str, Any]:
        return await self._call(self.sessions.settings.command_queue, kind, actor, **fields)

    async def invite_call(self, kind: str, actor: str | None, **fields: Any) -> dict[str, Any]:
        return await self._call(self.invites.settings.command_queue, kind, actor, **fields)

    async def start_session(self) -> str:
        reply = await self.session_call("StartSession", "alice", csr_id="alice", csr_name="Alice")
        return str(reply["session"]["session_id"])

    async def invite(
        self,
        sid: str,
        channel: str,
        role: str = "customer",
        to: str | None = "bob@example.com",
        actor: str = "alice",
    ) -> dict[str, Any]:
        return await self.invite_call(
            "IssueInvitation", actor, session_id=sid, role=role, channel=channel, to=to
        )

    async def issue_twice(
        self, sid: str, channel: str, to: str | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The same IssueInvitation command delivered twice (same command id)."""
        command = {
            "command_id": str(uuid4()),
            "correlation_id": str(uuid4()),
            "actor_id": "alice",
            "session_id": sid,
            "role": "customer",
            "channel": channel,
            "to": to,
        }
        queue = self.invites.settings.command_queue
        first = await self.client.call(queue, "IssueInvitation", command)
        return first, await self.client.call(queue, "IssueInvitation", command)

    async def redeem(self, token: str, name: str = "Bob", actor: str | None = None) -> Any:
        return await self.invite_call("RedeemInvitation", actor, token=token, name=name)

    async def participants(self, sid: str) -> list[str]:
        view = (await self.session_call("GetSession", "alice", session_id=sid))["session"]
        return [p["name"] for p in view["participants"]]


@pytest_asyncio.fixture
async def stack(
    database_url: str,
    amqp_url: str,
    settings_for: SettingsFor,
    session_svc: SessionService,
) -> AsyncIterator[Stack]:
    smtp, clock = SmtpServer(), FakeClock()
    sessions = session_svc
    async with fresh_schema(database_url) as schema:
        invites = await start_invite_svc(
            settings_for(
                InviteSettings,
                schema,
                smtp_url=smtp.url,
                support_site_url=SITE,
                delivery_seconds=0.1,
            ),
            clock=clock.now,
        )
        client = await RpcClient(amqp_url).connect()
        stack = Stack(client, sessions, invites, smtp.up(), clock)
        yield stack
        await client.close()
        await stack.invites.stop()  # the one running now: a test may have restarted it
        smtp.down()


def ends_handled() -> float:
    """How many SessionEnded events invite-svc's inbox has handled in this process."""
    labels = {"consumer": "invite-svc", "type": "SessionEnded", "outcome": "handled"}
    return REGISTRY.get_sample_value("support_events_handled_total", labels) or 0.0


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def test_i1_own_mail_program_draft_and_its_link_lets_a_customer_in(stack: Stack) -> None:
    sid = await stack.start_session()
    reply = await stack.invite(sid, "own_email")
    draft = reply["draft"]
    assert draft["mailto"].startswith("mailto:bob@example.com?subject=Invitation%20to%20a%20")
    assert reply["join_url"] in draft["body"] and reply["join_url"].startswith(SITE + "/join?")
    assert stack.mailbox.messages == []  # nothing is sent for this channel
    joined = await stack.redeem(token_of(reply["join_url"]))
    assert joined["role"] == "customer" and "Bob" in await stack.participants(sid)


async def test_i1_website_and_instant_message_channels(stack: Stack) -> None:
    sid = await stack.start_session()
    number = (await stack.session_call("GetSession", "alice", session_id=sid))["session"][
        "session_number_display"
    ]
    site = (await stack.invite(sid, "website", to=None))["website"]
    assert site["site"] == SITE and site["session_number"] == number
    im = await stack.invite(sid, "instant_message", to=None)
    assert im["instant_message"]["text"].endswith(im["join_url"])
    assert number in im["instant_message"]["text"]


async def test_i1_system_email_arrives_with_headers_text_html_and_a_working_link(
    stack: Stack,
) -> None:
    sid = await stack.start_session()
    reply = await stack.invite(sid, "email", to="dana@example.com")
    assert reply["delivery"] == "queued"
    [message] = await eventually(lambda: stack.mailbox.messages, what="the e-mail delivered")
    assert message["To"] == "dana@example.com"
    assert message["Subject"].startswith("Invitation to a support session (")
    assert message["Message-ID"] == f"<{reply['invitation_id']}@support>"
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and rich is not None, "both a text and an HTML part"
    text, html = plain.get_content(), rich.get_content()
    link = next(word for word in text.split() if word.startswith(SITE + "/join?token="))
    assert link.replace("&", "&amp;") in html or link in html
    await stack.redeem(token_of(link), name="Dana")
    assert "Dana" in await stack.participants(sid)


async def test_i3_smtp_down_then_up_the_invitation_arrives_once(stack: Stack) -> None:
    sid = await stack.start_session()
    stack.smtp_down()
    reply = await stack.invite(sid, "email", to="erin@example.com")

    async def failed_once() -> bool:
        state = await stack.invites.handlers.invitations(UUID(sid))
        invitation = state.invitations[UUID(reply["invitation_id"])]
        return invitation.attempts == 1 and invitation.retry_at is not None

    await eventually(failed_once, what="a failed attempt recorded with a retry time")
    stack.smtp_up()
    stack.clock.advance(6)
    [message] = await eventually(lambda: stack.mailbox.messages, what="delivery after the outage")
    assert message["To"] == "erin@example.com"
    # the second attempt, with the Message-ID of the invitation (13.10), not of the attempt
    assert message["Message-ID"] == f"<{reply['invitation_id']}@support>"
    stack.clock.advance(600)
    await eventually(lambda: not stack.invites.delivery.pending.get(UUID(sid)))
    assert len(stack.mailbox.messages) == 1


async def test_i3_a_permanent_refusal_is_recorded_with_the_servers_reason(stack: Stack) -> None:
    sid = await stack.start_session()
    reply = await stack.invite(sid, "email", to="nobody@example.com")

    async def gave_up() -> str | None:
        state = await stack.invites.handlers.invitations(UUID(sid))
        return state.invitations[UUID(reply["invitation_id"])].gave_up

    reason = await eventually(gave_up, what="a permanent failure")
    assert reason.startswith("550") and "no such user" in reason
    assert stack.mailbox.messages == []


async def test_i2_tokens_expire_csr_ones_are_single_use_bad_ones_refused(stack: Stack) -> None:
    sid = await stack.start_session()
    csr = await stack.invite(sid, "instant_message", role="csr", to=None)
    token = token_of(csr["join_url"])
    with pytest.raises(Refusal) as anonymous:
        await stack.redeem(token, name="Carol")
    assert anonymous.value.status == 403
    assert (await stack.redeem(token, name="Carol", actor="carol"))["role"] == "csr"
    with pytest.raises(Refusal) as reused:
        await stack.redeem(token, name="Dave", actor="dave")
    assert (reused.value.status, reused.value.code) == (409, "used")
    assert "Dave" not in await stack.participants(sid)
    with pytest.raises(Refusal) as bad:
        await stack.redeem(f"{sid.replace('-', '')}.{'x' * 32}")
    assert (bad.value.status, bad.value.code) == (401, "unknown_token")
    customer = token_of((await stack.invite(sid, "instant_message", to=None))["join_url"])
    stack.clock.advance(24 * 3600 + 1)  # the site's default lifetime: one day
    with pytest.raises(Refusal) as expired:
        await stack.redeem(customer)
    assert (expired.value.status, expired.value.code) == (401, "expired")


async def test_s10_ending_the_session_revokes_its_invitations(stack: Stack) -> None:
    sid = await stack.start_session()
    token = token_of((await stack.invite(sid, "instant_message", to=None))["join_url"])
    await stack.session_call("EndSession", "alice", session_id=sid)

    async def revoked() -> bool:
        try:
            await stack.redeem(token)
        except Refusal as refused:
            return refused.code == "revoked"
        return False

    assert await eventually(revoked, what="the invitation revoked after SessionEnded")
    with pytest.raises(Refusal) as ended:
        await stack.invite(sid, "own_email")
    assert ended.value.status == 409


async def test_s10_an_end_with_no_invitation_open_is_looked_at_in_no_transaction(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: invite-svc looks first whether an end revokes anything (``look_first``); the
    end of a session never invited to is one read, with no transaction and no record."""
    opened: list[int] = []
    begin = stack.invites.store.transaction

    def counted() -> AbstractAsyncContextManager[Transaction]:
        opened.append(1)
        return begin()

    monkeypatch.setattr(stack.invites.store, "transaction", counted)
    for invited in (False, True):
        sid = await stack.start_session()
        if invited:
            await stack.invite(sid, "website")  # (no transaction: a read and an append)
        before = ends_handled()
        await stack.session_call("EndSession", "alice", session_id=sid)
        assert await eventually(lambda: ends_handled() > before, what="the end handled")  # noqa: B023
        assert len(opened) == invited  # the revocation's, and only it


async def test_i1_only_the_controller_invites(stack: Stack) -> None:
    sid = await stack.start_session()
    with pytest.raises(Refusal) as refused:
        await stack.invite(sid, "own_email", actor="mallory")
    assert (refused.value.status, refused.value.code) == (403, "not_controller")
    with pytest.raises(Refusal) as invalid:
        await stack.invite(sid, "email", to=None)
    assert invalid.value.status == 422


async def test_i3_a_command_delivered_twice_issues_and_sends_once(stack: Stack) -> None:
    sid = await stack.start_session()
    first, again = await stack.issue_twice(sid, "email", "fay@example.com")
    assert first["invitation_id"] == again["invitation_id"]
    await eventually(lambda: stack.mailbox.messages, what="the e-mail delivered")
    stack.clock.advance(600)
    await eventually(lambda: not stack.invites.delivery.pending.get(UUID(sid)))
    assert len(stack.mailbox.messages) == 1
    state = await stack.invites.handlers.invitations(UUID(sid))
    assert len(state.invitations) == 1


async def test_a_repeated_own_mail_command_gives_a_working_link_for_the_same_invitation(
    stack: Stack,
) -> None:
    sid = await stack.start_session()
    first, again = await stack.issue_twice(sid, "own_email", None)
    assert first["invitation_id"] == again["invitation_id"]
    assert first["join_url"] != again["join_url"]
    await stack.redeem(token_of(first["join_url"]), name="Gus")
    await stack.redeem(token_of(again["join_url"]), name="Hal")
    assert {"Gus", "Hal"} <= set(await stack.participants(sid))


async def test_i3_delivery_survives_a_restart_of_the_service(stack: Stack) -> None:
    sid = await stack.start_session()
    stack.smtp_down()
    reply = await stack.invite(sid, "email", to="ida@example.com")
    invitation_id = UUID(reply["invitation_id"])

    async def attempted() -> bool:
        state = await stack.invites.handlers.invitations(UUID(sid))
        return state.invitations[invitation_id].attempts >= 1

    await eventually(attempted, what="a failed attempt before the restart")
    settings = stack.invites.settings
    await stack.invites.stop()
    stack.invites = await start_invite_svc(settings, clock=stack.clock.now)  # a new process
    stack.smtp_up()
    stack.clock.advance(600)
    [message] = await eventually(lambda: stack.mailbox.messages, what="delivered after restart")
    assert message["To"] == "ida@example.com"
    await eventually(lambda: not stack.invites.delivery.pending.get(UUID(sid)))
    assert len(stack.mailbox.messages) == 1


async def test_the_join_carries_the_redeem_commands_correlation_id(stack: Stack) -> None:
    sid = await stack.start_session()
    token = token_of((await stack.invite(sid, "instant_message", to=None))["join_url"])
    correlation_id = str(uuid4())
    await stack.client.call(
        stack.invites.settings.command_queue,
        "RedeemInvitation",
        {
            "command_id": str(uuid4()),
            "correlation_id": correlation_id,
            "actor_id": None,
            "token": token,
            "name": "Jo",
        },
    )
    events = (await stack.session_call("GetSessionEvents", "alice", session_id=sid))["events"]
    joined = [e for e in events if e["type"] == "CustomerJoined"]
    assert [e["correlation_id"] for e in joined] == [correlation_id]


async def test_i3_an_email_that_expired_before_delivery_is_no_longer_watched(stack: Stack) -> None:
    sid = await stack.start_session()
    stack.smtp_down()
    await stack.invite(sid, "email", to="kim@example.com")
    await eventually(lambda: stack.invites.delivery.pending.get(UUID(sid)), what="watched")
    stack.clock.advance(24 * 3600 + 1)
    await eventually(lambda: UUID(sid) not in stack.invites.delivery.pending, what="dropped")
    stack.smtp_up()
    assert stack.mailbox.messages == []


async def test_i2_two_csrs_racing_with_one_single_use_link_let_one_in(stack: Stack) -> None:
    sid = await stack.start_session()
    for round_no in range(4):
        token = token_of(
            (await stack.invite(sid, "instant_message", role="csr", to=None))["join_url"]
        )
        first, second = f"csr-a{round_no}", f"csr-b{round_no}"
        results = await asyncio.gather(
            stack.redeem(token, name=first, actor=first),
            stack.redeem(token, name=second, actor=second),
            return_exceptions=True,
        )
        refused = [r for r in results if isinstance(r, Refusal)]
        assert [r.code for r in refused] == ["used"], results
        present = set(await stack.participants(sid))
        assert len(present & {first, second}) == 1, present
