"""``python -m media_relay`` as ops run it: settings from the environment, JSON logs, health
on its port, and on SIGTERM its connections told it goes away (1001) and exit 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from session_svc.bootstrap import SessionService
from support_testkit.plugin import SettingsFor, fresh_schema
from support_testkit.processes import start_service

from .peers import Peer, Sessions, http_get, relay_settings

pytestmark = pytest.mark.integration


async def test_the_relay_process_serves_and_stops_on_sigterm(
    database_url: str,
    settings_for: SettingsFor,
    session_svc: SessionService,
    sessions: Sessions,
    tmp_path: Path,
) -> None:
    session = await sessions.start("alice")
    async with fresh_schema(database_url) as schema:
        config = relay_settings(
            settings_for,
            schema,
            session_svc.settings.command_queue,
            tmp_path,
        )
        relay = await start_service(
            "media_relay", config.as_environment(), until="media_relay.started"
        )
        try:
            port = int(relay.first("media_relay.started")["port"])
            assert await http_get(f"http://127.0.0.1:{port}/healthz", "") == (200, {"ok": True})
            assert await http_get(f"http://127.0.0.1:{port}/readyz", "") == (200, {"ready": True})
            status, _ = await http_get(
                f"http://127.0.0.1:{port}/v1/sessions/{session}/viewers", "x"
            )
            assert status == 401
            status, _ = await http_get(f"http://127.0.0.1:{port}/v1/sessions/{session}/relay", "x")
            assert status == 426  # not a WebSocket handshake
            assert (await http_get(f"http://127.0.0.1:{port}/nowhere", "x"))[0] == 404
            later = await sessions.start("bob")  # after the relay's queue was there
            bob = await Peer.connect(port, later, "bob")
        finally:
            code = await relay.terminate()
        relay.assert_stopped_cleanly(code)
        assert (await bob.closed_with())[0] == 1001
        assert "relay.connected" in {e["event"] for e in relay.logged}
