"""The image of the Dockerfile, built with podman as ops would build it with Docker (there is
no Docker engine here: tests-containers/README.md), on local stand-ins for the upstream base
images where no registry answers."""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]
TESTS = ROOT / "tests-containers"
IMAGE = "localhost/support-center:dev"  # the name docker-compose.yml gives it


def use_project_podman_settings() -> None:
    """podman with ``tests-containers/containers.conf`` (the runc runtime, limits the sandbox
    allows) in this process and every podman it starts; the machine's own settings stay."""
    os.environ.setdefault("CONTAINERS_CONF", str(TESTS / "containers.conf"))


def podman(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    use_project_podman_settings()
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: {done.returncode}\n{done.stderr[-3000:]}")
    return done


@functools.cache
def built_image() -> str:
    """The stand-in images when missing or changed (``tests-containers/standins/build``), then the
    image from the Dockerfile, once per test session (later builds reuse podman's layers). With
    ``SSL_CERT_FILE`` set (this machine's TLS-inspecting certificate authority), it goes in as
    the Dockerfile's optional ``extra_ca`` build secret."""
    use_project_podman_settings()
    subprocess.run([str(TESTS / "standins" / "build")], check=True, timeout=900)
    ca = os.environ.get("SSL_CERT_FILE", "")
    secret = [f"--secret=id=extra_ca,src={ca}"] if ca and Path(ca).is_file() else []
    podman("build", "--pull=never", "--network=host", *secret, f"--tag={IMAGE}", str(ROOT),
           timeout=900)  # fmt: skip
    podman("image", "prune", "--force")  # the builds this one replaced: no disk filled by CI
    return IMAGE
