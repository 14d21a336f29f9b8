"""The whole system for an end-to-end test: every service its own process (``python -m ...``)
on the real RabbitMQ and PostgreSQL, each on a schema of its own and the test's queue names,
and a real SMTP server in the test's process that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import socket
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from pydantic_settings import BaseSettings

from gateway.settings import Settings as GatewaySettings
from invite_svc.settings import Settings as InviteSettings
from media_relay.settings import Settings as RelaySettings
from routing_svc.settings import Settings as RoutingSettings
from session_svc.settings import Settings as SessionSettings
from support_testkit.plugin import RabbitNames, fresh_schema

JWT_SECRET = "the-end-to-end-tests-jwt-secret-of-32"
PARTICIPANT_SECRET = "the-end-to-end-tests-participant-secret"
SITE = "https://support.e2e.test"


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@dataclass
class Service:
    name: str
    process: asyncio.subprocess.Process
    started: dict[str, Any]
    logged: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Stack:
    gateway_url: str
    relay_port: int
    mailbox: Mailbox
    services: list[Service]
    schemas: dict[str, str]  # each service's log


async def _spawn(module: str, settings: BaseSettings) -> Service:
    environment = settings.as_environment()  # type: ignore[attr-defined]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module,
        env={**os.environ, **environment},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    logged: list[dict[str, Any]] = []
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"{module} exited before it started: {logged[-5:]}")
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"event": line.decode().rstrip()}
        logged.append(entry)
        if str(entry.get("event", "")).endswith(".started"):
            break
    service = Service(module, process, logged[-1], logged)
    asyncio.create_task(_keep_reading(service))  # noqa: RUF006  (ends with the process)
    return service


async def _keep_reading(service: Service) -> None:
    assert service.process.stdout is not None
    async for line in service.process.stdout:
        try:
            service.logged.append(json.loads(line))
        except ValueError:
            service.logged.append({"event": line.decode().rstrip()})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _stop(service: Service) -> None:
    if service.process.returncode is None:
        service.process.terminate()
        await asyncio.wait_for(service.process.wait(), 30)


async def start_stack(
    stack: AsyncExitStack, amqp_url: str, database_url: str, names: RabbitNames, tmp: Path
) -> Stack:
    mailbox = Mailbox()
    smtp_port = _free_port()  # aiosmtpd checks it is up by connecting: it needs the number
    smtp = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    stack.callback(smtp.stop)
    schemas = [await stack.enter_async_context(fresh_schema(database_url)) for _ in range(5)]
    common = {"amqp_url": amqp_url, "database_url": database_url, "exchange": names.exchange}
    commands = {s: names.queue(f"{s}-commands") for s in ("session", "invite", "routing")}
    services = []

    async def spawn(module: str, settings: BaseSettings) -> Service:
        service = await _spawn(module, settings)
        stack.push_async_callback(_stop, service)
        services.append(service)
        return service

    await spawn(
        "session_svc",
        SessionSettings(
            **common,
            database_schema=schemas[0],
            command_queue=commands["session"],
            routing_queue=names.queue("session-routing"),
        ),
    )
    await spawn(
        "invite_svc",
        InviteSettings(
            **common,
            database_schema=schemas[1],
            command_queue=commands["invite"],
            session_queue=commands["session"],
            session_events_queue=names.queue("invite-sessions"),
            smtp_url=f"smtp://127.0.0.1:{smtp_port}",
            support_site_url=SITE,
            delivery_seconds=0.2,
        ),
    )
    await spawn(
        "routing_svc",
        RoutingSettings(
            **common,
            database_schema=schemas[2],
            command_queue=commands["routing"],
            session_queue=names.queue("routing-sessions"),
            session_commands=commands["session"],
        ),
    )
    relay = await spawn(
        "media_relay",
        RelaySettings(
            **common,
            database_schema=schemas[3],
            session_queue=names.queue("relay-sessions"),
            session_commands=commands["session"],
            host="127.0.0.1",
            port=0,
            participant_token_secret=PARTICIPANT_SECRET,
            recordings_dir=tmp / "recordings",
        ),
    )
    relay_port = int(relay.started["port"])
    gateway = await spawn(
        "gateway",
        GatewaySettings(
            **common,
            database_schema=schemas[4],
            session_commands=commands["session"],
            invite_commands=commands["invite"],
            routing_commands=commands["routing"],
            live_queue_prefix=names.queue("gateway-live"),
            host="127.0.0.1",
            port=0,
            jwt_secret=JWT_SECRET,
            participant_token_secret=PARTICIPANT_SECRET,
            relay_url=f"ws://127.0.0.1:{relay_port}",
        ),
    )
    logs = dict(
        zip(("session_svc", "invite_svc", "routing_svc", "media_relay"), schemas, strict=False)
    )
    url = f"http://127.0.0.1:{gateway.started['port']}"
    return Stack(url, relay_port, mailbox, services, logs)
