"""``python -m invite_svc`` as ops run it: settings from the environment, answers over RabbitMQ
(asking session-svc), JSON logs, a clean exit on SIGTERM."""

from __future__ import annotations

from uuid import uuid4

import pytest

from invite_svc.settings import Settings
from session_svc.bootstrap import SessionService
from support_contracts.refusals import Refusal
from support_rpc import RpcClient
from support_testkit.plugin import SettingsFor, fresh_schema
from support_testkit.processes import start_service

pytestmark = pytest.mark.integration


async def test_the_invite_process_answers_and_stops_on_sigterm(
    database_url: str,
    amqp_url: str,
    settings_for: SettingsFor,
    session_svc: SessionService,
) -> None:
    session_queue = session_svc.settings.command_queue
    async with fresh_schema(database_url) as schema:
        settings = settings_for(Settings, schema)
        service = await start_service(
            "invite_svc", settings.as_environment(), until="invite_svc.started"
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
            code = await service.terminate()
            await client.close()
        service.assert_stopped_cleanly(code)
