"""``python -m session_svc`` as Kubernetes and Prometheus see it (E3): alive and ready on its
ops port, not ready when its log's migrations are not all applied, and metrics of the commands
it answered, the sessions it runs and its outbox lag."""

from __future__ import annotations

import json
from uuid import uuid4

import asyncpg
import pytest

from eventlog.postgres_schema import MIGRATIONS
from session_svc.settings import Settings
from support_rpc import RpcClient
from support_testkit.plugin import SettingsFor, fresh_schema
from support_testkit.processes import http_get, start_service
from support_testkit.waiting import eventually

pytestmark = pytest.mark.integration


async def get(port: int, path: str) -> tuple[int, str]:
    status, _, body = await http_get(port, path)
    return status, body.decode()


async def test_e3_health_readiness_and_metrics_of_the_process(
    database_url: str, amqp_url: str, settings_for: SettingsFor
) -> None:
    async with fresh_schema(database_url) as schema:
        settings = settings_for(Settings, schema)
        service = await start_service(
            "session_svc", settings.as_environment(), until="ops.listening"
        )
        client = await RpcClient(amqp_url).connect()
        try:
            port = service.first("ops.listening")["port"]

            assert await get(port, "/healthz") == (200, '{"alive": true}')
            status, body = await get(port, "/readyz")
            assert (status, json.loads(body)) == (200, {"ready": True, "failed": {}})

            command = {"command_id": str(uuid4()), "correlation_id": str(uuid4()),
                       "actor_id": "alice", "csr_id": "alice", "csr_name": "Alice"}  # fmt: skip
            await client.call(settings.command_queue, "StartSession", command, within_seconds=30)
            status, metrics = await get(port, "/metrics")
            assert status == 200
            started = f'queue="{settings.command_queue}",type="StartSession"'
            assert any(
                line.startswith("support_commands_total")
                and started in line
                and 'outcome="ok"' in line
                for line in metrics.splitlines()
            ), metrics
            assert "support_live_sessions 1.0" in metrics
            assert f'support_outbox_lag_events{{log="{schema}"}}' in metrics

            # the log's migrations not all applied: not ready, and says why
            conn = await asyncpg.connect(database_url)
            await conn.execute(f"DELETE FROM {schema}.migrations")
            status, body = await get(port, "/readyz")
            assert status == 503 and "database" in json.loads(body)["failed"]
            versions = f"SELECT generate_series(1, {len(MIGRATIONS)})"
            await conn.execute(f"INSERT INTO {schema}.migrations (version) {versions}")
            await conn.close()

            async def ready() -> bool:
                return (await get(port, "/readyz"))[0] == 200

            await eventually(ready, what="ready again")
            assert (await get(port, "/nothing"))[0] == 404
        finally:
            code = await service.terminate()
            await client.close()
        assert code == 0
