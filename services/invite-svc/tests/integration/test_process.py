"""``python -m invite_svc`` as ops run it: settings from the environment, answers over RabbitMQ
(asking session-svc), JSON logs, a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from uuid import uuid4

import pytest

from invite_svc.settings import Settings
from session_svc.bootstrap import SessionService
from support_contracts.refusals import Refusal
from support_rpc import RpcClient
from support_testkit.plugin import RabbitNames, fresh_schema

pytestmark = pytest.mark.integration


async def test_the_invite_process_answers_and_stops_on_sigterm(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, session_svc: SessionService
) -> None:
    session_queue = session_svc.settings.command_queue
    async with fresh_schema(database_url) as schema:
        settings = Settings(
            amqp_url=amqp_url,
            database_url=database_url,
            database_schema=schema,
            exchange=rabbit_names.exchange,
            queue_prefix=rabbit_names.prefix,
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "invite_svc",
            env={**os.environ, **settings.as_environment(), "OPS_PORT": "0"},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        client = await RpcClient(amqp_url).connect()
        ids = {"command_id": str(uuid4()), "correlation_id": str(uuid4())}
        try:
            started = await client.call(
                session_queue,
                "StartSession",
                {**ids, "actor_id": "alice", "csr_id": "alice", "csr_name": "Alice"},
            )
            sid = started["session"]["session_id"]
            reply = await client.call(
                settings.command_queue,
                "IssueInvitation",
                {
                    **ids,
                    "command_id": str(uuid4()),
                    "actor_id": "alice",
                    "session_id": sid,
                    "role": "customer",
                    "channel": "instant_message",
                },
                within_seconds=30,
            )
            assert reply["join_url"].startswith(settings.support_site_url)
            with pytest.raises(Refusal):
                await client.call(
                    settings.command_queue,
                    "RedeemInvitation",
                    {**ids, "token": "x" * 40, "name": "Eve"},
                )
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 20)
            await client.close()
        assert process.returncode == 0
        assert process.stdout is not None
        logged = [json.loads(line) for line in (await process.stdout.read()).decode().splitlines()]
        assert {"invite_svc.started", "invite_svc.stopped"} <= {e["event"] for e in logged}
