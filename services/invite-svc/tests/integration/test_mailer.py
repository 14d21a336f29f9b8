"""The SMTP client against a real SMTP server (aiosmtpd): authentication when configured, and
the server's refusals sorted into temporary and permanent (I1a, I3)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from invite_svc.channels import Letter
from invite_svc.mailer import PermanentFailure, SmtpMailer, TemporaryFailure

LETTER = Letter("Invitation", "Join here: https://s.example/join?token=t", "<p>Join</p>")


class Accepting:
    def __init__(self) -> None:
        self.received: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope)
        return "250 queued as 42"


def only_alice(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alice", b"s3cret")
    return AuthResult(success=ok, handled=False)  # handled=True would mean "I replied myself"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server() -> Iterator[tuple[Accepting, int]]:
    handler, port = Accepting(), free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=only_alice,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    yield handler, port
    controller.stop()


async def test_i1_authenticates_when_the_url_names_a_user(server: tuple[Accepting, int]) -> None:
    handler, port = server
    mailer = SmtpMailer(f"smtp://alice:s3cret@127.0.0.1:{port}", "Support <s@example.com>")
    reply = await mailer.send("bob@example.com", LETTER, message_id="<x.1@support>")
    assert "queued as 42" in reply
    [envelope] = handler.received
    assert (
        envelope.rcpt_tos == ["bob@example.com"]
        and b"Message-ID: <x.1@support>" in envelope.content
    )


async def test_i3_wrong_credentials_are_permanent_with_the_servers_reason(
    server: tuple[Accepting, int],
) -> None:
    _, port = server
    mailer = SmtpMailer(f"smtp://alice:wrong@127.0.0.1:{port}", "s@example.com")
    with pytest.raises(PermanentFailure, match=r"^535"):
        await mailer.send("bob@example.com", LETTER, message_id="<x.2@support>")


async def test_i3_no_server_is_a_temporary_failure() -> None:
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", "s@example.com", timeout_seconds=2)
    with pytest.raises(TemporaryFailure, match="Connect"):
        await mailer.send("bob@example.com", LETTER, message_id="<x.3@support>")


def test_smtp_url_must_name_smtp_or_smtps() -> None:
    with pytest.raises(ValueError, match="smtp:// or smtps://"):
        SmtpMailer("http://127.0.0.1:25", "s@example.com")


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Accepting, int, str]]:
    """An SMTP server that insists on STARTTLS, with a certificate from a CA of the test's own."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    handler, port = Accepting(), free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    yield handler, port, str(ca_file)
    controller.stop()


async def test_i1_upgrades_with_starttls_when_the_url_asks(
    tls_server: tuple[Accepting, int, str],
) -> None:
    handler, port, ca_file = tls_server
    mailer = SmtpMailer(f"smtp://127.0.0.1:{port}?starttls=true", "s@example.com", ca_file=ca_file)
    await mailer.send("bob@example.com", LETTER, message_id="<x.4@support>")
    assert len(handler.received) == 1


async def test_i3_a_server_that_requires_tls_refuses_plain_mail_for_good(
    tls_server: tuple[Accepting, int, str],
) -> None:
    handler, port, _ = tls_server
    with pytest.raises(PermanentFailure, match=r"^530"):
        await SmtpMailer(f"smtp://127.0.0.1:{port}?starttls=false", "s@example.com").send(
            "bob@example.com", LETTER, message_id="<x.5@support>"
        )
    assert handler.received == []
