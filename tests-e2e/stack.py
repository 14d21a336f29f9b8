"""The whole system for an end-to-end test: ``support_demo.stack`` (every service its own
process) on schemas and queue names of the test's own, and a real SMTP server in the test's
process that keeps what it receives."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

from support_demo.stack import JWT_SECRET, SITE, Image, start_stack
from support_demo.stack import Stack as Processes
from support_testkit.mail import Mailbox, SmtpServer
from support_testkit.plugin import RabbitNames, fresh_schema

__all__ = ["JWT_SECRET", "SITE", "Mailbox", "Stack", "start"]


@dataclass
class Stack:
    processes: Processes
    mailbox: Mailbox
    amqp_url: str  # where it runs: the broker, the database, its exchange and queue names
    database_url: str
    names: RabbitNames

    @property
    def gateway_url(self) -> str:
        return self.processes.gateway_url

    @property
    def schemas(self) -> dict[str, str]:
        return self.processes.schemas


async def start(
    exits: AsyncExitStack,
    amqp_url: str,
    database_url: str,
    names: RabbitNames,
    tmp: Path,
    image: Image | None = None,
) -> Stack:
    smtp = SmtpServer().up()
    exits.callback(smtp.down)
    schemas = [await exits.enter_async_context(fresh_schema(database_url)) for _ in range(5)]
    processes = await start_stack(
        exits, amqp_url, database_url, names, schemas, tmp, smtp.url, image=image
    )
    return Stack(processes, smtp.mailbox, amqp_url, database_url, names)
