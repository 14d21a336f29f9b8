"""``make run``: the whole system, running until Ctrl-C (SIGINT) or SIGTERM.

Every service as its own process on RabbitMQ and PostgreSQL when they answer (where
``AMQP_URL`` and ``DATABASE_URL`` say, or on the default loopback ports), or all of them
embedded in this process on in-memory logs and one in-memory broker when nothing answers or
``DEMO_MODE=embedded``: the choice ``make demo`` makes (``wiring.servers``). Unlike the demo, a
real run keeps what it did: its schemas (``<RUN_NAME>_session``, ...) and its queues (behind
``<RUN_NAME>.``) stay for the next run. An SMTP server in this process takes the system
e-mail, keeps each message as a file and says so. The gateway listens on ``GATEWAY_PORT``
(8080), the relay on ``RELAY_PORT`` (8765), both on loopback; what a run keeps on disk (the
e-mails, the recordings, the services' logs) is under ``RUN_DIR`` (``.run``).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import os
import re
import shlex
import signal
import socket
import sys
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import uvloop
from aiosmtpd.controller import Controller

from service_runtime.http import free_port
from support_contracts import EXCHANGE
from support_demo.stack import (
    ContractNames,
    IdentityProvider,
    Stack,
    staff,
    start_stack,
)
from support_demo.wiring import embedded, servers

SCHEMAS = ("session", "invite", "routing", "relay", "gateway")
JOIN_LINK = re.compile(r"https?://\S+/join\?token=[\w%.~-]+")


@dataclass(frozen=True)
class RunSettings:
    name: str  # of the run's schemas and queues
    folder: Path
    gateway_port: int
    relay_port: int
    provider: IdentityProvider | None  # staff sign in with it; by name when there is none

    @classmethod
    def from_environment(cls) -> RunSettings:
        name = os.environ.get("RUN_NAME", "run")
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", name):
            raise SystemExit(f"run: RUN_NAME must be lower-case letters, digits and _: {name!r}")
        return cls(
            name=name,
            folder=Path(os.environ.get("RUN_DIR", ".run")).resolve(),
            gateway_port=_port("GATEWAY_PORT", 8080),
            relay_port=_port("RELAY_PORT", 8765),
            provider=_provider(),
        )


def _provider() -> IdentityProvider | None:
    try:
        return IdentityProvider.from_environment(dict(os.environ))
    except ValueError as error:
        raise SystemExit(f"run: the identity provider: {error}") from None


def _port(variable: str, default: int) -> int:
    """The port the variable names (0: any free one), checked free now: a clear error beats a
    service that fails to listen half-way through the start."""
    text = os.environ.get(variable, str(default))
    if not text.isdigit() or int(text) > 65535:
        raise SystemExit(f"run: {variable} must be a port number, not {text!r}")
    port = int(text) or free_port()
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise SystemExit(
                f"run: port {port} is taken (another `make run`?); set {variable} to another"
            ) from None
    return port


class MailCatcher:
    """The system e-mail of this development setup: an SMTP server on loopback that keeps each
    message as ``<folder>/NNNN.eml`` and says so, with the join link it carries."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port, self.count = folder, free_port(), 0
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def up(self) -> MailCatcher:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller.start()
        return self

    def down(self) -> None:
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        kept = self.folder / f"{self.count:04d}.eml"
        kept.write_bytes(envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        to = ", ".join(envelope.rcpt_tos)
        print(f"  e-mail to {to}: {message['Subject']} (kept as {kept})", flush=True)
        body = message.get_body(preferencelist=("plain",))
        link = JOIN_LINK.search(body.get_content() if body is not None else "")
        if link:
            print(f"    its join link: {link.group()}", flush=True)
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class Running:
    description: str
    gateway_url: str
    relay_url: str
    stack: Stack | None  # the processes, when it runs on RabbitMQ and PostgreSQL


async def start(settings: RunSettings, exits: AsyncExitStack, mail: MailCatcher) -> Running:
    site = f"http://127.0.0.1:{settings.gateway_port}"  # where the invitations' links lead
    found = await servers("run")
    if found is None:
        demo = await exits.enter_async_context(
            embedded(
                gateway_port=settings.gateway_port,
                relay_port=settings.relay_port,
                site=site,
                smtp_url=mail.url,
                dev_sign_in=True,
                provider=settings.provider,
            )
        )
        description = (
            "embedded: every service in this process, on in-memory event logs and one"
            " in-memory broker (RabbitMQ and PostgreSQL did not answer); nothing is kept"
            " after it stops"
        )
        return Running(description, str(demo.api.base_url).rstrip("/"), demo.relay_url, None)
    amqp_url, database_url = found
    schemas = [f"{settings.name}_{service}" for service in SCHEMAS]
    logs = settings.folder / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stack = await start_stack(
        exits,
        amqp_url,
        database_url,
        ContractNames(f"{settings.name}."),
        schemas,
        settings.folder,
        mail.url,
        gateway_port=settings.gateway_port,
        relay_port=settings.relay_port,
        site=site,
        log_dir=logs,
        dev_sign_in=True,
        provider=settings.provider,
    )
    description = (
        f"real: every service its own process on RabbitMQ at {amqp_url} (events on {EXCHANGE},"
        f" queues behind {settings.name}.) and PostgreSQL at {database_url} (schemas"
        f" {', '.join(schemas)}), kept for the next run; their logs in {logs}"
    )
    return Running(description, stack.gateway_url, f"ws://127.0.0.1:{stack.relay_port}", stack)


def banner(running: Running, mail: MailCatcher, provider: IdentityProvider | None) -> str:
    people = [
        ("a csr", "alice", ("csr",)),
        ("an agent (and csr)", "dave", ("csr", "agent")),
        ("an admin", "admin", ("admin",)),
    ]
    console = "sign in with any name; csr, agent, admin"
    if provider is not None:
        console = f"staff sign in at {provider.issuer}"
    lines = [
        f"support center running, {running.description}",
        "",
        f"  console      {running.gateway_url}/console  ({console})",
        f"  customers    {running.gateway_url}/join  (where the invitations' links lead)",
        f"  gateway API  {running.gateway_url}/v1  (described at {running.gateway_url}/docs)",
        f"  relay        {running.relay_url}",
        f"  e-mail       SMTP at {mail.url} in this process; each message kept under"
        f" {mail.folder} and shown here",
    ]
    if provider is not None:  # the provider's tokens only: there are no development ones
        return "\n".join([*lines, "", "Ctrl-C stops it."])
    lines += [
        "",
        "  For the API itself, development tokens (valid 8 hours; the console's sign-in and",
        "  `supportctl token NAME --role ROLE` make more):",
    ]
    for who, user, roles in people:
        token = staff(user, *roles, name=user.title())["Authorization"]
        lines += [f"    {who}, {user}:", f"      Authorization: {token}"]
    alice = staff("alice", "csr", name="Alice")["Authorization"]
    start = [
        "curl", "-X", "POST", f"{running.gateway_url}/v1/sessions",
        "-H", f"Authorization: {alice}", "-H", "Content-Type: application/json",
        "-d", '{"email_invite": true}',
    ]  # fmt: skip
    lines += ["", "  Alice starts a session:", f"    {shlex.join(start)}", "", "Ctrl-C stops it."]
    return "\n".join(lines)


@contextmanager
def asked_on_signals(asked: asyncio.Event) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM set ``asked``, for as long as the run lasts: one asked for
    a stop while it starts or stops is not an interruption half-way (the services, in the same
    process group, get Ctrl-C too, and stop themselves cleanly)."""
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, asked.set)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


async def until_stopped(asked: asyncio.Event, stack: Stack | None) -> int:
    """0 once a stop is asked for; 1 if a service's process ends by itself first."""
    stop = asyncio.create_task(asked.wait())
    exits = {asyncio.create_task(s.process.wait()): s for s in (stack.services if stack else [])}
    done, pending = await asyncio.wait({stop, *exits}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    ended = [exits[task] for task in done if task in exits]
    for service in ended:
        print(f"run: {service.name} ended by itself (exit code {service.process.returncode});"
              " see its log", flush=True)  # fmt: skip
    print("run: stopping", flush=True)
    return 1 if ended else 0


async def main() -> int:
    settings = RunSettings.from_environment()
    asked = asyncio.Event()
    with asked_on_signals(asked):
        mail = MailCatcher(settings.folder / "mail").up()
        try:
            async with AsyncExitStack() as exits:
                running = await start(settings, exits, mail)
                print(banner(running, mail, settings.provider), flush=True)
                code = await until_stopped(asked, running.stack)
        finally:
            mail.down()
    print("run: stopped", flush=True)
    return code


def run() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        code = uvloop.run(main())
    except KeyboardInterrupt:  # before it listened for signals: nothing was started yet
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    run()
