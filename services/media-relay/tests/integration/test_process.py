"""``python -m media_relay`` as ops run it: settings from the environment, JSON logs, health
on its port, and on SIGTERM its connections told it goes away (1001) and exit 0."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from session_svc.bootstrap import SessionService
from support_testkit.plugin import RabbitNames, fresh_schema

from .peers import Peer, Sessions, http_get, relay_settings

pytestmark = pytest.mark.integration


async def test_the_relay_process_serves_and_stops_on_sigterm(
    database_url: str,
    amqp_url: str,
    rabbit_names: RabbitNames,
    session_svc: SessionService,
    sessions: Sessions,
    tmp_path: Path,
) -> None:
    session = await sessions.start("alice")
    async with fresh_schema(database_url) as schema:
        config = relay_settings(
            amqp_url,
            database_url,
            schema,
            rabbit_names,
            session_svc.settings.command_queue,
            tmp_path,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "media_relay",
            env={**os.environ, **config.as_environment(), "OPS_PORT": "0"},
            stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdout is not None
        logged: list[dict[str, Any]] = []
        try:
            while not logged or logged[-1]["event"] != "media_relay.started":
                line = await asyncio.wait_for(process.stdout.readline(), 30)
                assert line, "the relay exited before it started"
                logged.append(json.loads(line))
            port = int(logged[-1]["port"])
            assert await http_get(f"http://127.0.0.1:{port}/healthz", "") == (200, {"ok": True})
            assert await http_get(f"http://127.0.0.1:{port}/readyz", "") == (200, {"ready": True})
            status, _ = await http_get(
                f"http://127.0.0.1:{port}/v1/sessions/{session}/viewers", "x"
            )
            assert status == 401
            later = await sessions.start("bob")  # after the relay's queue was there
            bob = await Peer.connect(port, later, "bob")
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 20)
        assert process.returncode == 0
        assert (await bob.closed_with())[0] == 1001
        rest = (await process.stdout.read()).decode().splitlines()
        logged += [json.loads(line) for line in rest if line.strip()]
        assert {"relay.connected", "media_relay.stopped"} <= {e["event"] for e in logged}
