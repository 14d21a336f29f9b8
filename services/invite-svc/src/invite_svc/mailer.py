"""System e-mail over SMTP (I1a): ``SMTP_URL`` is ``smtp://[user:password@]host[:port]``
(``?starttls=true`` to insist on upgrading the connection, ``=false`` never to; without it,
the connection is upgraded when the server offers STARTTLS) or ``smtps://...`` for TLS from
the start;
``SMTP_CA_FILE`` names the CA to trust when the server's certificate is not a public one.
A failure is temporary (the server said 4xx, or could not be reached) or permanent (5xx)."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from invite_svc.channels import Letter


class TemporaryFailure(Exception):
    """Try again later."""


class PermanentFailure(Exception):
    """The server refused for good; its reason is the message."""


class Mailer(Protocol):
    async def send(self, to: str, letter: Letter, *, message_id: str) -> str:
        """Hand the message on; the reply that took it, or Temporary/PermanentFailure."""
        ...


class SmtpMailer:
    def __init__(
        self,
        url: str,
        sender: str,
        *,
        ca_file: str | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {url!r}")
        asked = parse_qs(parts.query).get("starttls", [""])[0].lower()
        self._sender = sender
        self._server: dict[str, Any] = {  # aiosmtplib.send's arguments, from the url
            "hostname": parts.hostname or "127.0.0.1",
            "port": parts.port or (465 if parts.scheme == "smtps" else 25),
            "username": unquote(parts.username) if parts.username else None,
            "password": unquote(parts.password) if parts.password else None,
            "use_tls": parts.scheme == "smtps",
            # true: required; false: never; not given: upgrade when the server offers it
            "start_tls": {"true": True, "1": True, "false": False, "0": False}.get(asked),
            # a context of our own: aiosmtplib 5 does not apply cert_bundle to STARTTLS
            "tls_context": ssl.create_default_context(cafile=ca_file) if ca_file else None,
            "timeout": timeout_seconds,
        }

    async def send(self, to: str, letter: Letter, *, message_id: str) -> str:
        """Hand the message to the server; its reply, or Temporary/PermanentFailure."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._sender, to, letter.subject
        message["Message-ID"] = message_id
        message.set_content(letter.text)
        message.add_alternative(letter.html, subtype="html")
        try:
            _, reply = await aiosmtplib.send(message, **self._server)
        except aiosmtplib.SMTPRecipientsRefused as refused:
            raise _classified(refused.recipients[0].code, refused.recipients[0].message) from None
        except aiosmtplib.SMTPResponseException as error:
            raise _classified(error.code, error.message) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise TemporaryFailure(f"{type(error).__name__}: {error}") from None
        return reply


def _classified(code: int, message: str) -> Exception:
    reason = f"{code} {message}"
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)
