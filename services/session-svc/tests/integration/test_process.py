"""``python -m session_svc`` as ops run it: settings from the environment, answers over
RabbitMQ, and on SIGTERM stops taking commands and exits cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from uuid import uuid4

import pytest

from session_svc.settings import Settings
from support_rpc import RpcClient
from support_testkit.plugin import RabbitNames, fresh_schema

pytestmark = pytest.mark.integration


async def test_the_service_process_answers_and_stops_on_sigterm(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames
) -> None:
    async with fresh_schema(database_url) as schema:
        settings = Settings(
            amqp_url=amqp_url,
            database_url=database_url,
            database_schema=schema,
            queue_prefix=rabbit_names.prefix,
            exchange=rabbit_names.exchange,
        )
        queue = settings.command_queue
        env = {**os.environ, **settings.as_environment(), "OPS_PORT": "0"}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "session_svc",
            env=env,
            stderr=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
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
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 20)
            await client.close()
        assert process.returncode == 0
        assert process.stdout is not None
        lines = (await process.stdout.read()).decode().splitlines()
        logged = [json.loads(line) for line in lines if line.strip()]
        assert {"session_svc.started", "session_svc.stopped"} <= {e["event"] for e in logged}
        assert all({"level", "timestamp"} <= set(e) for e in logged)
        # issue 17.1: a clean stop logged eventlog.lock_lost for the locks it gave up itself
        warned = [e for e in logged if e["level"] in ("warning", "error", "critical")]
        assert not warned, warned
