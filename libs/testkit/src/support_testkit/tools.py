"""Tools from PyPI that tests run (scanners, podman-compose), each in an environment of its own
by ``uv tool run``, kept out of the workspace's lock: their pins are not the services'."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def uv_tool(
    package: str, *command: str, timeout: float = 600, env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    uv = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
    return subprocess.run(
        [*uv, "tool", "run", "--from", package, *command],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd,
    )  # fmt: skip
