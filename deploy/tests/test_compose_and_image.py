"""E3: ``docker-compose.yml`` gives a working stack (every service, its health check on
``/readyz``, started after what it needs, settings its code accepts), and the image's install
step (``uv sync`` from the lock file, no dev packages) yields an environment that runs every
service. These are the quick checks; ``tests-containers/`` builds the image and runs the compose
stack for real with podman (``make test-containers``)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from gateway.settings import Settings as GatewaySettings
from invite_svc.settings import Settings as InviteSettings
from media_relay.settings import Settings as RelaySettings
from routing_svc.settings import Settings as RoutingSettings
from session_svc.settings import Settings as SessionSettings

ROOT = Path(__file__).resolve().parents[2]
DEFAULTED = re.compile(r"\$\{(\w+):-([^}]*)\}")  # compose's ${VARIABLE:-default}
SERVICES: dict[str, tuple[str, type[BaseSettings]]] = {
    "session-svc": ("session_svc", SessionSettings),
    "invite-svc": ("invite_svc", InviteSettings),
    "routing-svc": ("routing_svc", RoutingSettings),
    "media-relay": ("media_relay", RelaySettings),
    "gateway": ("gateway", GatewaySettings),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_e3_every_service_is_in_the_compose_file_and_starts_after_what_it_needs(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    services = compose["services"]
    for infrastructure in ("rabbitmq", "postgres", "mailpit"):
        assert services[infrastructure]["healthcheck"]["test"], infrastructure
    for name, (module, settings_class) in SERVICES.items():
        service = services[name]
        assert service["build"] == "." and service["command"] == [module]
        assert importlib.util.find_spec(module) is not None
        assert "/readyz" in " ".join(service["healthcheck"]["test"])
        needs = service["depends_on"]
        assert needs["rabbitmq"] == needs["postgres"] == {"condition": "service_healthy"}
        for dependency, condition in needs.items():
            assert dependency in services and condition == {"condition": "service_healthy"}
        # the environment it is given is one its code takes (only the environment is read)
        for variable in list(os.environ):
            monkeypatch.delenv(variable)
        for variable, value in service["environment"].items():
            monkeypatch.setenv(variable, DEFAULTED.sub(r"\2", str(value)))  # ${PORT:-8080}
        settings_class()  # raises on a missing or bad setting
        assert service["environment"]["OPS_PORT"] == "9090"
    relay, gateway = services["media-relay"], services["gateway"]
    secret = "PARTICIPANT_TOKEN_SECRET"
    assert relay["environment"][secret] == gateway["environment"][secret]
    assert "${GATEWAY_PORT:-8080}:8080" in gateway["ports"]
    assert "${RELAY_PORT:-8765}:8765" in relay["ports"]
    for infrastructure in ("rabbitmq", "postgres", "mailpit"):  # not on every address
        assert all(port.startswith("127.0.0.1:") for port in services[infrastructure]["ports"])
    assert services["invite-svc"]["environment"]["SMTP_URL"] == "smtp://mailpit:1025"


def test_e3_the_dockerfile_builds_from_the_lock_file_and_runs_as_nobody_in_particular() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    stages = [line for line in dockerfile.splitlines() if line.startswith("FROM ")]
    assert len(stages) == 2 and all("python:3.11-slim" in stage for stage in stages)
    assert "uv sync --frozen --no-default-groups --no-editable" in dockerfile
    assert all(f"--package {name}" in dockerfile for name in SERVICES)
    user = next(line for line in dockerfile.splitlines() if line.startswith("USER "))
    assert not user.split()[1].startswith(("0", "root"))


@pytest.mark.timeout(300)
def test_e3_the_image_install_step_gives_every_service_and_no_dev_packages(tmp_path: Path) -> None:
    uv = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv), "UV_LINK_MODE": "copy"}
    packages = [arg for name in SERVICES for arg in ("--package", name)]
    install = [*uv, "sync", "--frozen", "--no-default-groups", "--no-editable", *packages]
    done = subprocess.run(install, cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]
    python = str(venv / "bin" / "python")
    modules = ", ".join(module for module, _ in SERVICES.values())
    check = (
        f"import {modules}; import importlib.util as u;"
        " print([m for m in ('pytest', 'support_testkit', 'support_demo', 'faststream')"
        " if u.find_spec(m)])"
    )
    ran = subprocess.run([python, "-c", check], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and ran.stdout.strip() == "[]", ran.stdout + ran.stderr[-2000:]
    cli = subprocess.run(
        [str(venv / "bin" / "supportctl"), "--help"], capture_output=True, timeout=60
    )
    assert cli.returncode == 0
