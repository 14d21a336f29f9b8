"""The whole system for an end-to-end test: ``support_demo.stack`` (every service its own
process) on schemas and queue names of the test's own, and a real SMTP server in the test's
process that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
from contextlib import AsyncExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from support_demo.stack import JWT_SECRET, SITE, free_port, start_stack
from support_demo.stack import Stack as Processes
from support_testkit.plugin import RabbitNames, fresh_schema

__all__ = ["JWT_SECRET", "SITE", "Mailbox", "Stack", "start"]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@dataclass
class Stack:
    processes: Processes
    mailbox: Mailbox

    @property
    def gateway_url(self) -> str:
        return self.processes.gateway_url

    @property
    def schemas(self) -> dict[str, str]:
        return self.processes.schemas


async def start(
    exits: AsyncExitStack, amqp_url: str, database_url: str, names: RabbitNames, tmp: Path
) -> Stack:
    mailbox = Mailbox()
    smtp_port = free_port()  # aiosmtpd checks it is up by connecting: it needs the number
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    exits.callback(smtp.stop)
    schemas = [await exits.enter_async_context(fresh_schema(database_url)) for _ in range(5)]
    processes = await start_stack(
        exits, amqp_url, database_url, names, schemas, tmp, f"smtp://127.0.0.1:{smtp_port}"
    )
    return Stack(processes, mailbox)
