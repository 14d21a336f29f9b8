"""``python -m session_svc`` as ops run it: settings from the environment, answers over
RabbitMQ, and on SIGTERM stops taking commands and exits cleanly."""

from __future__ import annotations

from uuid import uuid4

import pytest

from session_svc.settings import Settings
from support_rpc import RpcClient
from support_testkit.plugin import SettingsFor, fresh_schema
from support_testkit.processes import start_service

pytestmark = pytest.mark.integration


async def test_the_service_process_answers_and_stops_on_sigterm(
    database_url: str, amqp_url: str, settings_for: SettingsFor
) -> None:
    async with fresh_schema(database_url) as schema:
        settings = settings_for(Settings, schema)
        queue = settings.command_queue
        service = await start_service(
            "session_svc", settings.as_environment(), until="session_svc.started"
        )
        client = await RpcClient(amqp_url).connect()
        try:
            command = {
                "command_id": str(uuid4()),
                "correlation_id": str(uuid4()),
                "actor_id": "alice",
                "csr_id": "alice",
                "csr_name": "Alice",
            }
            reply = await client.call(queue, "StartSession", command, within_seconds=30)
            assert reply["session"]["controller"] == "alice"
        finally:
            code = await service.terminate()
            await client.close()
        service.assert_stopped_cleanly(code)
