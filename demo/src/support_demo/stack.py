"""The whole system as processes: every service its own ``python -m ...`` on the real RabbitMQ
and PostgreSQL, each on a schema of its own, with the caller's exchange and queue names. The
real-mode demo runs on it, and so do the end-to-end tests (with an SMTP server of theirs) and
the fault suite (with replicas, killing and starting services again)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from pydantic_settings import BaseSettings

from gateway.identity import staff_token
from gateway.settings import Settings as GatewaySettings
from invite_svc.settings import Settings as InviteSettings
from media_relay.settings import Settings as RelaySettings
from routing_svc.settings import Settings as RoutingSettings
from service_runtime.http import free_port
from session_svc.settings import Settings as SessionSettings
from support_contracts import EXCHANGE

JWT_SECRET = "the-demo-and-e2e-jwt-secret-of-32-chars"
PARTICIPANT_SECRET = "the-demo-and-e2e-participant-secret-32"
SITE = "https://support.example.com"


def staff(user: str, *roles: str, name: str | None = None) -> dict[str, str]:
    """The headers of a signed-in staff member on this development setup."""
    token = staff_token(
        JWT_SECRET, user, list(roles), name=name,
        issuer="support-center-dev", audience="support-api",
    )  # fmt: skip
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class IdentityProvider:
    """Staff sign in with an OpenID provider (issue 16.2): the issuer the gateway trusts, where
    its keys are, the audience of the access tokens it gives for the gateway, and the consoles'
    client id there (a public client, PKCE). ``make run`` takes it from the gateway's own
    variables (``from_environment``)."""

    issuer: str
    jwks_url: str
    audience: str
    client_id: str
    scope: str = "openid profile"
    parameters: dict[str, str] = field(default_factory=dict)

    VARIABLES = ("OIDC_CLIENT_ID", "JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE")

    @classmethod
    def from_environment(cls, environ: dict[str, str]) -> IdentityProvider | None:
        """The provider those variables name (``OIDC_CLIENT_ID``, ``JWKS_URL``, ``JWT_ISSUER``,
        ``JWT_AUDIENCE``; ``OIDC_SCOPE`` and ``OIDC_AUTHORIZE_PARAMETERS``, a JSON object, if
        wanted), None if ``OIDC_CLIENT_ID`` is not set; ``ValueError`` naming what is missing."""
        if not environ.get("OIDC_CLIENT_ID"):
            return None
        missing = [v for v in cls.VARIABLES if not environ.get(v)]
        if missing:
            raise ValueError(f"OIDC_CLIENT_ID is set, so set {', '.join(missing)} too")
        parameters = json.loads(environ.get("OIDC_AUTHORIZE_PARAMETERS", "{}"))
        if not isinstance(parameters, dict):
            raise ValueError("OIDC_AUTHORIZE_PARAMETERS must be a JSON object")
        return cls(environ["JWT_ISSUER"], environ["JWKS_URL"], environ["JWT_AUDIENCE"],
                   environ["OIDC_CLIENT_ID"], environ.get("OIDC_SCOPE", cls.scope),
                   {str(k): str(v) for k, v in parameters.items()})  # fmt: skip


def signing_in(dev_sign_in: bool, provider: IdentityProvider | None) -> dict[str, Any]:
    """The gateway's settings for how staff sign in: by name (a development setup), or with the
    provider (the development secret still signs ``supportctl token``'s tokens, which the
    gateway then refuses: the provider's keys check every staff token)."""
    if provider is None:
        return {"dev_sign_in": dev_sign_in}
    return {
        "jwt_issuer": provider.issuer,
        "jwks_url": provider.jwks_url,
        "jwt_audience": provider.audience,
        "oidc_client_id": provider.client_id,
        "oidc_scope": provider.scope,
        "oidc_authorize_parameters": provider.parameters,
    }


@dataclass(frozen=True)
class Image:
    """Every service a container of this image (the Dockerfile's) instead of a process: run by
    podman on the host's network (so ports and servers are as for a process), with a read-only
    root file system as ops run it, and ``volumes`` mounted at the same paths. Settings go in
    by name (``--env NAME``), so no secret is on a command line."""

    name: str
    volumes: tuple[Path, ...] = ()

    def command(self, container: str, module: str, environment: dict[str, str]) -> list[str]:
        return [
            "podman", "run", "--rm", "--name", container, "--network=host",
            "--read-only", "--tmpfs=/tmp",
            *(f"--volume={path}:{path}" for path in self.volumes),
            *(f"--env={name}" for name in sorted(environment)),
            self.name, module,
        ]  # fmt: skip


@dataclass
class Service:
    name: str
    process: asyncio.subprocess.Process  # the service's, or podman's that runs its container
    started: dict[str, Any]
    logged: list[dict[str, Any]] = field(default_factory=list)
    settings: BaseSettings | None = None  # what it was started with, to start it again
    image: Image | None = None
    container: str | None = None  # its name, when it runs from ``image``

    @property
    def ops_port(self) -> int:
        return int(next(e["port"] for e in self.logged if e.get("event") == "ops.listening"))

    async def signal(self, name: str) -> None:
        """SIGTERM or SIGKILL to the service: to its process, or to its container."""
        if self.container is None:
            self.process.send_signal(signal.Signals[f"SIG{name}"])
            return
        podman = await asyncio.create_subprocess_exec(
            "podman", "kill", f"--signal={name}", self.container,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        await podman.wait()


@dataclass
class Stack:
    gateway_url: str
    relay_port: int
    services: list[Service]  # those running now (a restarted one replaces its old self)
    schemas: dict[str, str]  # each service's log
    gone: list[Service] = field(default_factory=list)  # killed or stopped, with their logs

    def running(self, name: str) -> list[Service]:
        return [s for s in self.services if s.name == name]

    async def kill(self, service: Service) -> None:
        """``kill -9``: no clean-up, no last words."""
        await service.signal("KILL")
        await asyncio.wait_for(service.process.wait(), 30)
        self.services.remove(service)
        self.gone.append(service)

    async def restart(self, service: Service) -> Service:
        """Kill it if it still runs, then start it again with the same settings (and ports)."""
        if service in self.services:
            await self.kill(service)
        assert service.settings is not None
        again = await spawn_service(service.name, service.settings, image=service.image)
        self.services.append(again)
        return again

    async def stop(self) -> None:
        for service in list(self.services):
            await _stop(service)


async def spawn_service(
    module: str, settings: BaseSettings, *, log_file: Path | None = None, image: Image | None = None
) -> Service:
    """``python -m module`` with these settings (or a container of ``image`` running it), once
    it has logged its ``.started`` line and its ops port listens (``ops.listening``, logged
    after it) (it is not part of any stack: the caller stops it). Its log is kept in
    ``logged``, or, with ``log_file``, appended to that file (``logged`` then keeps only the
    lines up to its start: a long run's log is not held in memory)."""
    # each its own ops port
    environment = {**settings.as_environment(), "OPS_PORT": "0"}  # type: ignore[attr-defined]
    command, container = [sys.executable, "-m", module], None
    if image is not None:
        container = f"support-{module.replace('_', '-')}-{secrets.token_hex(4)}"
        command = image.command(container, module, environment)
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, **environment},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    logged: list[dict[str, Any]] = []
    started: dict[str, Any] | None = None
    listening = False
    while started is None or not listening:
        line = await asyncio.wait_for(process.stdout.readline(), 60)
        if not line:
            raise RuntimeError(f"{module} exited before it started: {logged[-5:]}")
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"event": line.decode().rstrip()}
        logged.append(entry)
        event = str(entry.get("event", ""))
        if event.endswith(".started"):
            started = entry
        listening = listening or event == "ops.listening"
    service = Service(module, process, started, logged, settings, image, container)
    if log_file is None:
        asyncio.create_task(_keep_reading(service))  # noqa: RUF006  (ends with the process)
    else:
        with log_file.open("a") as file:
            file.writelines(json.dumps(entry) + "\n" for entry in logged)
        asyncio.create_task(_append(service, log_file))  # noqa: RUF006  (ends with the process)
    return service


async def _keep_reading(service: Service) -> None:
    assert service.process.stdout is not None
    async for line in service.process.stdout:
        try:
            service.logged.append(json.loads(line))
        except ValueError:
            service.logged.append({"event": line.decode().rstrip()})


async def _append(service: Service, log_file: Path) -> None:
    assert service.process.stdout is not None
    with log_file.open("ab", buffering=0) as file:
        async for line in service.process.stdout:
            file.write(line)


async def _stop(service: Service) -> None:
    if service.process.returncode is None:
        await service.signal("TERM")
        await asyncio.wait_for(service.process.wait(), 30)


@dataclass(frozen=True)
class ContractNames:
    """The contract's events exchange, and the topology's queues behind ``prefix``."""

    prefix: str

    @property
    def exchange(self) -> str:
        return EXCHANGE

    def queue(self, name: str) -> str:
        return f"{self.prefix}{name}"


class Names(Protocol):
    """Where the stack's messages go: the events exchange and the name of each queue."""

    @property
    def exchange(self) -> str: ...

    @property
    def prefix(self) -> str:
        """Before every queue name of the topology (``support_contracts.topology``)."""
        ...

    def queue(self, name: str) -> str: ...


async def start_stack(
    stack: AsyncExitStack,
    amqp_url: str,
    database_url: str,
    names: Names,
    schemas: list[str],
    tmp: Path,
    smtp_url: str = "smtp://127.0.0.1:1025",
    *,
    replicas: int = 1,
    gateway_port: int | None = None,
    relay_port: int | None = None,
    site: str = SITE,
    log_dir: Path | None = None,
    dev_sign_in: bool = False,
    provider: IdentityProvider | None = None,
    image: Image | None = None,
) -> Stack:
    """Start the services in order (each waits for its ``.started``); ``stack`` stops them.
    ``replicas`` of session-svc and routing-svc; the relay and the gateway get ports of their
    own (free ones unless given) that they keep when started again; ``site``: where the links
    of invitations lead; ``log_dir``: each service's log in a file there (``<module>.log``),
    not in memory; ``dev_sign_in``: the consoles sign in by name (a development setup);
    ``provider``: staff sign in with that identity provider (and not by name);
    ``image``: every service a container of it (``tmp`` mounted, the relay's recordings there)."""
    if image is not None:
        image = replace(image, volumes=(*image.volumes, tmp))
        (tmp / "recordings").mkdir(parents=True, exist_ok=True)
        (tmp / "recordings").chmod(0o777)  # the image's user writes there
    common: dict[str, Any] = {
        "amqp_url": amqp_url,
        "database_url": database_url,
        "exchange": names.exchange,
        "queue_prefix": names.prefix,  # every service's queues: the topology's, behind it
    }
    services: list[Service] = []
    running = Stack("", 0, services, {})
    stack.push_async_callback(running.stop)

    async def spawn(module: str, settings: BaseSettings, count: int = 1) -> Service:
        log_file = None if log_dir is None else log_dir / f"{module}.log"
        for _ in range(count):
            services.append(await spawn_service(module, settings, log_file=log_file, image=image))
        return services[-1]

    await spawn(
        "session_svc",
        SessionSettings(
            **common,
            database_schema=schemas[0],
        ),
        replicas,
    )
    await spawn(
        "invite_svc",
        InviteSettings(
            **common,
            database_schema=schemas[1],
            smtp_url=smtp_url,
            support_site_url=site,
            delivery_seconds=0.2,
        ),
    )
    await spawn(
        "routing_svc",
        RoutingSettings(
            **common,
            database_schema=schemas[2],
        ),
        replicas,
    )
    relay = await spawn(
        "media_relay",
        RelaySettings(
            **common,
            database_schema=schemas[3],
            host="127.0.0.1",
            port=relay_port or free_port(),
            participant_token_secret=PARTICIPANT_SECRET,
            recordings_dir=tmp / "recordings",
        ),
    )
    relay_port = int(relay.started["port"])  # the one it listens on
    gateway = await spawn(
        "gateway",
        GatewaySettings(
            **common,
            database_schema=schemas[4],
            live_queue_prefix=names.queue("gateway-live"),
            host="127.0.0.1",
            port=gateway_port or free_port(),
            jwt_secret=JWT_SECRET,
            participant_token_secret=PARTICIPANT_SECRET,
            relay_url=f"ws://127.0.0.1:{relay_port}",
            **signing_in(dev_sign_in, provider),
        ),
    )
    running.schemas = dict(
        zip(("session_svc", "invite_svc", "routing_svc", "media_relay"), schemas, strict=False)
    )
    running.gateway_url = f"http://127.0.0.1:{gateway.started['port']}"
    running.relay_port = relay_port
    return running
