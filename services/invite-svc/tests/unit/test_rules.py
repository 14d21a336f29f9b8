"""I1-I4 as rules: given invitations, when a command, then events or a refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID, uuid4

import pytest

from invite_svc import channels, tokens
from invite_svc.domain import rules
from invite_svc.domain.state import Invitations, apply
from support_contracts.invite import Channel, IssueInvitation, RevokeReason
from support_contracts.refusals import BadCredentials, Invalid, NotAllowed, StateForbids
from support_contracts.vocabulary import InviteeRole

T0 = datetime(2026, 11, 24, 10, tzinfo=UTC)
SESSION = UUID("00000000-0000-4000-8000-000000000002")
TTL = timedelta(hours=1)


def invite(
    role: InviteeRole = InviteeRole.CUSTOMER,
    channel: Channel = Channel.OWN_EMAIL,
    to: str | None = "bob@example.com",
    actor: str = "alice",
) -> IssueInvitation:
    return IssueInvitation.new(
        actor_id=actor,
        session_id=SESSION,
        role=role,
        channel=channel,
        to=to,
    )


def issued(
    s: Invitations, cmd: IssueInvitation, token_sha256: str | None, *, live: bool = True
) -> Invitations:
    events = rules.issue_invitation(
        s,
        cmd,
        invitation_id=uuid4(),
        token_sha256=token_sha256,
        session_number="123456789",
        session_live=live,
        controller="alice",
        now=T0,
        ttl=TTL,
    )
    return apply(s, events)


def test_i1_the_controller_invites_by_any_channel_and_i4_as_often_as_needed() -> None:
    s = Invitations()
    for channel in Channel:
        s = issued(s, invite(channel=channel), tokens.mint(SESSION)[1])
    s = issued(s, invite(role=InviteeRole.CSR), tokens.mint(SESSION)[1])
    assert len(s.invitations) == 5
    assert {i.channel for i in s.invitations.values()} == set(Channel)


def test_i1_only_the_controller_invites_and_never_to_an_ended_session() -> None:
    with pytest.raises(NotAllowed, match="participant with control"):
        issued(Invitations(), invite(actor="carol"), None)
    with pytest.raises(StateForbids, match="has ended"):
        issued(Invitations(), invite(), None, live=False)
    with pytest.raises(Invalid, match="e-mail address"):
        issued(Invitations(), invite(channel=Channel.EMAIL, to=None), None)


def test_i2_a_token_opens_its_invitation_until_it_expires() -> None:
    token, digest = tokens.mint(SESSION)
    s = issued(Invitations(), invite(), digest)
    assert tokens.session_of(token) == SESSION and len(token.split(".")[1]) >= 32
    assert rules.check_token(s, tokens.digest(token), now=T0 + TTL).role is InviteeRole.CUSTOMER
    with pytest.raises(BadCredentials, match="expired"):
        rules.check_token(s, digest, now=T0 + TTL + timedelta(seconds=1))
    with pytest.raises(BadCredentials, match="not valid"):
        rules.check_token(s, tokens.mint(SESSION)[1], now=T0)
    with pytest.raises(BadCredentials, match="not valid"):
        tokens.session_of("not-a-token")


def test_i2_a_csr_invitation_is_single_use_a_customer_one_is_not() -> None:
    csr_digest, customer_digest = tokens.mint(SESSION)[1], tokens.mint(SESSION)[1]
    s = issued(
        issued(Invitations(), invite(role=InviteeRole.CSR), csr_digest), invite(), customer_digest
    )
    s = apply(s, rules.accept_invitation(s, csr_digest, participant_id="carol", now=T0))
    with pytest.raises(StateForbids, match="used already"):
        rules.accept_invitation(s, csr_digest, participant_id="dave", now=T0)
    for who in ("bob", "bob-again"):
        s = apply(s, rules.accept_invitation(s, customer_digest, participant_id=who, now=T0))


def test_i2_ending_the_session_revokes_every_open_invitation() -> None:
    first, second = tokens.mint(SESSION)[1], tokens.mint(SESSION)[1]
    s = issued(issued(Invitations(), invite(), first), invite(channel=Channel.EMAIL), second)
    revoked = apply(s, rules.revoke_all(s, RevokeReason.SESSION_ENDED))
    assert all(i.revoked for i in revoked.invitations.values())
    with pytest.raises(StateForbids, match="withdrawn"):
        rules.check_token(revoked, first, now=T0)
    assert rules.revoke_all(revoked, RevokeReason.SESSION_ENDED) == []


def test_i3_email_attempts_mint_a_token_each_and_back_off_until_sent() -> None:
    s = issued(Invitations(), invite(channel=Channel.EMAIL), None)
    [inv] = s.invitations.values()
    assert inv.due_for_sending(T0) and not inv.tokens
    s = apply(s, rules.mint_for_sending(s, inv.id, tokens.mint(SESSION)[1], now=T0))
    s = apply(s, rules.delivery_failed(s, inv.id, "421 try later", permanent=False, now=T0))
    assert not s.invitations[inv.id].due_for_sending(T0 + timedelta(seconds=4))
    assert s.invitations[inv.id].due_for_sending(T0 + timedelta(seconds=5))
    assert rules.mint_for_sending(s, inv.id, tokens.mint(SESSION)[1], now=T0) == []  # not yet
    second_try = T0 + timedelta(seconds=5)
    s = apply(s, rules.mint_for_sending(s, inv.id, tokens.mint(SESSION)[1], now=second_try))
    s = apply(s, rules.delivery_failed(s, inv.id, "421 again", permanent=False, now=second_try))
    assert s.invitations[inv.id].retry_at == second_try + timedelta(seconds=10)
    s = apply(s, rules.mint_for_sending(s, inv.id, tokens.mint(SESSION)[1], now=T0 + TTL / 2))
    s = apply(s, rules.sent(s, inv.id, "250 OK"))
    final = s.invitations[inv.id]
    assert final.sent and final.attempts == 3 and len(final.tokens) == 3
    assert not final.due_for_sending(T0 + TTL / 2)


def test_i3_a_permanent_failure_is_recorded_with_the_servers_reason() -> None:
    s = issued(Invitations(), invite(channel=Channel.EMAIL), None)
    [inv] = s.invitations.values()
    s = apply(s, rules.mint_for_sending(s, inv.id, tokens.mint(SESSION)[1], now=T0))
    s = apply(s, rules.delivery_failed(s, inv.id, "550 no such user", permanent=True, now=T0))
    assert s.invitations[inv.id].gave_up == "550 no such user"
    assert not s.invitations[inv.id].due_for_sending(T0 + TTL / 2)


def test_i1_own_mail_program_draft_is_a_correctly_encoded_mailto() -> None:
    link = channels.join_link("https://support.example.com/", "abc.def")
    draft = channels.letter(
        site_url="https://support.example.com",
        session_number="123456789",
        link=link,
        role=InviteeRole.CUSTOMER,
    )
    url = urlsplit(channels.mailto("bob+help@example.com", draft))
    query = parse_qs(url.query)
    assert url.scheme == "mailto" and unquote(url.path) == "bob+help@example.com"
    assert query["subject"] == ["Invitation to a support session (123 456 789)"]
    assert link in query["body"][0] and "\r\n" in query["body"][0]
    assert "%20" in url.query and "+" not in url.query.replace("%2B", "")
    message = EmailMessage()
    message.set_content(draft.text)
    message.add_alternative(draft.html, subtype="html")
    assert link in draft.html.replace("&amp;", "&")


def test_i1_website_and_instant_message_channels() -> None:
    site = channels.website("https://support.example.com", "123456789", InviteeRole.CUSTOMER)
    assert site.session_number == "123 456 789" and "Choose Join" in site.steps
    im = channels.instant_message("https://s.example/join?token=x", "123456789")
    assert im.text == "Join my support session 123 456 789: https://s.example/join?token=x"
