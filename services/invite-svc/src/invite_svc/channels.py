"""What each channel of I1 gives the invitee: the join link, an e-mail (text and HTML), a draft
for the csr's own mail program, the support website's steps, a short instant message."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import quote

from support_contracts.replies import Draft, InstantMessage, Website
from support_contracts.vocabulary import InviteeRole, format_session_number


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str


def join_link(site_url: str, token: str) -> str:
    return f"{site_url.rstrip('/')}/join?token={quote(token, safe='')}"


def letter(*, site_url: str, session_number: str, link: str, role: InviteeRole) -> Letter:
    number = format_session_number(session_number)
    who = "a support session" if role is InviteeRole.CUSTOMER else "a support session as assistant"
    subject = f"Invitation to {who} ({number})"
    text = (
        f"You are invited to {who}.\n\n"
        f"Join here: {link}\n\n"
        f"Or go to {site_url}, choose Join and type the session number {number}.\n"
    )
    page = (
        f"<p>You are invited to {html.escape(who)}.</p>"
        f'<p><a href="{html.escape(link)}">Join the session</a></p>'
        f'<p>Or go to <a href="{html.escape(site_url)}">{html.escape(site_url)}</a>, choose'
        f" <b>Join</b> and type the session number <b>{number}</b>.</p>"
    )
    return Letter(subject, text, page)


def mailto(to: str | None, draft: Letter) -> str:
    """RFC 6068: subject and body percent-encoded, line breaks as CRLF."""
    body = draft.text.replace("\n", "\r\n")
    return (
        f"mailto:{quote(to or '', safe='@')}"
        f"?subject={quote(draft.subject, safe='')}&body={quote(body, safe='')}"
    )


def own_email(to: str | None, draft: Letter) -> Draft:
    return Draft(mailto=mailto(to, draft), to=to, subject=draft.subject, body=draft.text)


def website(site_url: str, session_number: str, role: InviteeRole) -> Website:
    number = format_session_number(session_number)
    steps = [f"Go to {site_url}", "Choose Join", f"Type the session number {number}"]
    if role is InviteeRole.CSR:
        steps[1] = "Sign in and choose Assist"
    return Website(site=site_url, session_number=number, steps=steps)


def instant_message(link: str, session_number: str) -> InstantMessage:
    number = format_session_number(session_number)
    return InstantMessage(text=f"Join my support session {number}: {link}")
