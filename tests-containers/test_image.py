"""Issue 17.1 (E3): the image of the Dockerfile, built with podman on stand-in base images (no
registry answers here), holds the services and nothing for tests, runs every service as uid
10001 on a read-only root file system against the real RabbitMQ and PostgreSQL, each answering
``/readyz``, and each stops cleanly on SIGTERM within its grace period. The end-to-end story
against these containers is ``tests-e2e/test_story.py`` run with ``--services-from-image``
(``make test-containers`` runs both)."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from support_demo.stack import Image, Service, start_stack
from support_testkit.containers import built_image, podman
from support_testkit.plugin import RabbitNames, fresh_schema
from support_testkit.processes import ServiceProcess, http_get
from support_testkit.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

MODULES = ("session_svc", "invite_svc", "routing_svc", "media_relay", "gateway")
GRACE_SECONDS = 30  # terminationGracePeriodSeconds in deploy/, stop_grace_period in compose
STAND_INS = {  # what the Dockerfile builds on, and what stands in for it here
    "docker.io/library/python:3.11-slim": "Debian bookworm minbase",
    "ghcr.io/astral-sh/uv:0.13": "uv 0.13.9 wheel",
}


@pytest.fixture(scope="module")
def image() -> str:
    return built_image()


def inspect(name: str) -> dict[str, object]:
    loaded: list[dict[str, object]] = json.loads(podman("image", "inspect", name).stdout)
    return loaded[0]


def in_image(image: str, *command: str) -> str:
    entrypoint, *args = command
    ran = podman("run", "--rm", "--read-only", f"--entrypoint={entrypoint}", image, *args)
    return ran.stdout


def test_issue_17_1_the_image_is_built_on_named_stand_ins_and_holds_only_the_services(
    image: str,
) -> None:
    for base, built_from in STAND_INS.items():  # no upstream image was pulled: stand-ins
        labels = inspect(base)["Labels"]
        assert isinstance(labels, dict) and built_from in labels["support.stand-in"], base
    config = inspect(image)["Config"]
    assert isinstance(config, dict)
    assert config["User"] == "10001:10001"  # non-root
    assert config["Entrypoint"] == ["python", "-m"]
    assert in_image(image, "id", "-u").strip() == "10001"
    found = in_image(
        image, "python", "-c",
        "import importlib.util as u; import session_svc, invite_svc, routing_svc, media_relay,"
        " gateway; print(sorted(m for m in ('pytest', 'hypothesis', 'support_testkit',"
        " 'support_demo', 'mypy', 'ruff', 'testcontainers', 'playwright') if u.find_spec(m)))",
    )  # fmt: skip
    assert found.strip() == "[]"  # every service imports; no test, dev or demo package
    assert "supportctl" in in_image(image, "sh", "-c", "command -v supportctl")
    assert "usage: supportctl" in in_image(image, "supportctl", "--help")
    pages = "import gateway.consoles as c, pathlib; print(pathlib.Path(c.__file__).parent)"
    where = in_image(image, "python", "-c", pages).strip()
    assert "console.html" in in_image(image, "ls", f"{where}/pages")  # the consoles are in it


async def stop_within_grace(service: Service) -> tuple[int, float]:
    """``podman stop``: SIGTERM, then SIGKILL after the grace period; the exit code and how long
    it took."""
    assert service.container is not None
    began = time.monotonic()
    stop = await asyncio.create_subprocess_exec(
        "podman", "stop", f"--time={GRACE_SECONDS}", service.container,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await asyncio.wait_for(stop.wait(), GRACE_SECONDS + 15)
    code = await asyncio.wait_for(service.process.wait(), 15)
    return code, time.monotonic() - began


async def test_issue_17_1_every_service_runs_from_the_image_is_ready_and_stops_cleanly(
    image: str, amqp_url: str, database_url: str, tmp_path: Path
) -> None:
    names = RabbitNames.fresh()
    async with AsyncExitStack() as exits:
        schemas = [await exits.enter_async_context(fresh_schema(database_url)) for _ in MODULES]
        stack = await start_stack(
            exits, amqp_url, database_url, names, schemas, tmp_path, image=Image(image)
        )
        assert [s.name for s in stack.services] == list(MODULES)
        for service in stack.services:
            assert service.container is not None  # a container of the image, not a process
            answer = await eventually(
                lambda s=service: _ready(s), within=30, what=f"{service.name} /readyz"
            )
            assert answer == 200
        for service in reversed(stack.services):  # the gateway first, as a rollout would
            code, took = await stop_within_grace(service)
            assert took < GRACE_SECONDS, f"{service.name} needed SIGKILL ({took:.1f} s)"
            stopped = f"{service.name}.stopped"
            await eventually(
                lambda s=service, e=stopped: any(x.get("event") == e for x in s.logged),
                within=10, what=stopped,
            )  # fmt: skip
            ServiceProcess(service.name, service.process, service.logged).assert_stopped_cleanly(
                code
            )


async def _ready(service: Service) -> int | None:
    try:
        status, _, _ = await http_get(service.ops_port, "/readyz")
    except OSError:
        return None
    return status if status == 200 else None
