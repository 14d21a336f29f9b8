"""RabbitMQ and PostgreSQL of a test's own, to stop, kill and start again: never the machine's
shared servers. A RabbitMQ node with its own name, ports, data and config
(``rabbitmq-server -detached``, stopped with ``rabbitmqctl -n NAME stop``), and a PostgreSQL
cluster of its own (``pg_createcluster``, ``pg_ctlcluster --skip-systemctl-redirect``)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from service_runtime.http import free_port

START_SECONDS = 90.0


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait(what: str, ready: bool, port: int, within: float = START_SECONDS) -> None:
    deadline = time.monotonic() + within
    while _answers(port) != ready:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not {'start' if ready else 'stop'} in {within} s")
        time.sleep(0.2)


@dataclass
class _Private:
    name: str
    port: int

    @classmethod
    def create(cls) -> Self:
        raise NotImplementedError

    @classmethod
    def running(cls) -> Iterator[Self]:
        """Made and started, and removed once the caller is done (a fixture's
        ``yield from``), whatever happened to it meanwhile."""
        server = cls.create()
        try:
            server.start()
            yield server
        finally:
            server.remove()

    def start(self) -> None:
        raise NotImplementedError

    def remove(self) -> None:
        raise NotImplementedError

    def start_if_stopped(self) -> None:
        """Running again, whatever a test did to it."""
        if not _answers(self.port):
            self.start()


@dataclass
class PrivateRabbit(_Private):
    """A RabbitMQ node of its own on loopback."""

    dist_port: int
    base: Path

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @classmethod
    def create(cls) -> PrivateRabbit:
        port = free_port()
        base = Path(tempfile.mkdtemp(prefix="rabbit-"))
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"
        )
        (base / "plugins").write_text("[].\n")
        shutil.chown(base, "rabbitmq", "rabbitmq")
        for child in base.iterdir():
            shutil.chown(child, "rabbitmq", "rabbitmq")
        return cls(f"faults{port}@localhost", port, free_port(), base)

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "plugins"),
        }

    def start(self) -> None:
        subprocess.run(["rabbitmq-server", "-detached"], env=self._env(), check=True)
        _wait(f"RabbitMQ {self.name}", True, self.port)

    def stop(self) -> None:
        subprocess.run(
            ["rabbitmqctl", "-n", self.name, "stop"],
            env=self._env(),
            check=False,
            capture_output=True,
            timeout=60,
        )
        _wait(f"RabbitMQ {self.name}", False, self.port)
        deadline = time.monotonic() + 60  # the port closes before the node has gone
        while self._registered() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _registered(self) -> bool:
        names = subprocess.run(["epmd", "-names"], capture_output=True, text=True).stdout
        return f"name {self.name.split('@')[0]} at" in names

    def remove(self) -> None:
        if _answers(self.port):
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class PrivatePostgres(_Private):
    """A PostgreSQL 15 cluster of its own on loopback, trust authentication."""

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @classmethod
    def create(cls) -> PrivatePostgres:
        port = free_port()
        name = f"faults{port}"
        room = "max_connections=300"  # the whole system, replicas and all, on one cluster
        subprocess.run(
            ["pg_createcluster", "15", name, "-p", str(port), "-o", room, "--", "--auth=trust"],
            check=True,
            capture_output=True,
        )
        return cls(name, port)

    def _ctl(self, action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", "15", self.name, action],
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl("start")
        _wait(f"PostgreSQL {self.name}", True, self.port)

    def stop(self) -> None:
        self._ctl("stop")
        _wait(f"PostgreSQL {self.name}", False, self.port)
        self._gone()

    def kill_postmaster(self) -> None:
        """A crash: the postmaster killed, its backends left to notice."""
        pid_file = Path(f"/var/lib/postgresql/15/{self.name}/postmaster.pid")
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
        _wait(f"PostgreSQL {self.name}", False, self.port, within=30)
        self._gone()  # its orphaned backends hold the shared memory until they notice
        # nothing may reap the killed postmaster here (no init in a container): as a zombie
        # it still "exists", so its lock files would keep the next start out
        pid_file.unlink(missing_ok=True)
        Path(f"/var/run/postgresql/.s.PGSQL.{self.port}.lock").unlink(missing_ok=True)
        Path(f"/var/run/postgresql/.s.PGSQL.{self.port}").unlink(missing_ok=True)

    def _gone(self) -> None:
        deadline = time.monotonic() + 30
        while self._processes() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _processes(self) -> bool:
        found = subprocess.run(["pgrep", "-f", f"15/{self.name}"], capture_output=True)
        return found.returncode == 0

    def remove(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", "15", self.name], check=False, capture_output=True
        )
