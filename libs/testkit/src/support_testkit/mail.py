"""A real SMTP server in the test's process (aiosmtpd) that keeps what it receives, and can be
taken down and brought up again on its port."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from service_runtime.http import free_port


class Mailbox:
    """The SMTP server's side: keeps every message; refuses mail for nobody@ for good."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


class SmtpServer:
    """``Mailbox`` served on a port of its own (aiosmtpd checks it is up by connecting, so the
    port is chosen here, not by the system)."""

    def __init__(self, mailbox: Mailbox | None = None) -> None:
        self.mailbox = mailbox or Mailbox()
        self.port = free_port()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def up(self) -> SmtpServer:
        if self._controller is None:  # a stopped controller cannot start again: a new one
            self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
            self._controller.start()
        return self

    def down(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
