"""supportctl, the operators' command line: tokens for development, migrations and the
topology, dead letters listed and re-driven."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aio_pika
import asyncpg
import jwt
import pytest

from eventlog.postgres_schema import MIGRATIONS
from gateway.cli import main as supportctl
from support_testkit.plugin import RabbitNames, fresh_schema, waiting_in
from support_testkit.waiting import eventually

from .conftest import AUDIENCE, ISSUER, JWT_SECRET, bearer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ALICE = bearer("alice", "csr")


def test_supportctl_mints_a_token_the_gateway_accepts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", JWT_SECRET)
    assert supportctl(["token", "ann", "--role", "agent", "--role", "csr", "--name", "Ann"]) == 0
    token = capsys.readouterr().out.strip()
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert (claims["sub"], claims["roles"], claims["name"]) == ("ann", ["agent", "csr"], "Ann")
    monkeypatch.delenv("JWT_SECRET")
    assert supportctl(["token", "ann"]) == 2


def test_supportctl_token_imports_nothing_it_does_not_need() -> None:
    """Issue 14.10: ``supportctl token`` took seconds importing the whole gateway."""
    heavy = ["fastapi", "asyncpg", "aio_pika", "uvicorn", "pydantic_settings", "eventlog"]
    probe = f"import sys, gateway.cli; print([m for m in {heavy!r} if m in sys.modules])"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert found.stdout.strip() == "[]", found.stderr


async def test_supportctl_migrate_creates_every_log_and_the_topology(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames
) -> None:
    """Issue 14.11: the logs it is named, and every queue of the topology with its bindings,
    before any service starts."""
    env = {"DATABASE_URL": database_url, "AMQP_URL": amqp_url,
           "EXCHANGE": rabbit_names.exchange, "QUEUE_PREFIX": rabbit_names.prefix}  # fmt: skip
    topology = rabbit_names.topology()
    async with fresh_schema(database_url) as one, fresh_schema(database_url) as two:
        code, output, errors = await _supportctl("migrate", "--log", one, "--log", two, env=env)
        assert code == 0, errors
        declared = f"topology: {len(topology.queues)} queues declared"
        assert output.splitlines() == [f"{one}: migrated", f"{two}: migrated", declared]
        conn = await asyncpg.connect(database_url)
        try:
            for schema in (one, two):
                version = await conn.fetchval(f"SELECT max(version) FROM {schema}.migrations")
                assert version == len(MIGRATIONS)
        finally:
            await conn.close()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in topology.queues:
            await channel.declare_queue(name, passive=True)  # raises if it is not there
        exchange = await channel.get_exchange(rabbit_names.exchange)
        relay = topology.subscription("media-relay").queue
        await exchange.publish(aio_pika.Message(b"{}"), routing_key="session.SessionEnded")
        await eventually(lambda: waiting_in(amqp_url, relay), what="a published event in its queue")


async def _supportctl(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("supportctl")), *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, errors = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode(), errors.decode()


async def test_supportctl_lists_a_consumers_dead_letters_and_redrives_them(
    amqp_url: str, rabbit_names: RabbitNames
) -> None:
    """Issue 13.8: ``supportctl dead list`` shows each with its error and removes none;
    ``supportctl dead redrive`` puts them back on the consumer's queue, for a fresh start."""
    queue, env = rabbit_names.queue("projector"), {"AMQP_URL": amqp_url}
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for name in (queue, f"{queue}.dead"):
            await channel.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        why = {"x-error": "RuntimeError: a bug", "x-attempts": 5, "x-consumer": "projector",
               "x-original-routing-key": "session.SessionEnded", "x-delivery-count": 4}  # fmt: skip
        dead = aio_pika.Message(
            b'{"an": "event"}', headers=why, message_id="m1", type="SessionEnded"
        )
        await channel.default_exchange.publish(dead, routing_key=f"{queue}.dead")

        for _ in range(2):  # listing removes nothing
            code, output, _ = await _supportctl("dead", "list", "--queue", queue, env=env)
            assert code == 0
            [listed] = [json.loads(line) for line in output.splitlines()]
            assert listed == {"message_id": "m1", "type": "SessionEnded", "attempts": 5,
                              "routing_key": "session.SessionEnded", "consumer": "projector",
                              "error": "RuntimeError: a bug"}  # fmt: skip
        code, output, _ = await _supportctl("dead", "redrive", "--queue", queue, env=env)
        assert (code, output.strip()) == (0, f"{queue}: 1 re-driven")
        again = await (await channel.get_queue(queue)).get(timeout=5)
        assert again.body == b'{"an": "event"}' and again.message_id == "m1"
        assert again.headers["x-redriven"] == 1 and "x-error" not in again.headers
        assert again.headers.get("x-delivery-count", 0) == 0  # the consumer counts its tries anew
        await again.ack()
        code, output, _ = await _supportctl("dead", "list", "--queue", queue, env=env)
        assert (code, output) == (0, "")
    code, _, errors = await _supportctl("dead", "list", "--queue", "no.such.queue", env=env)
    assert code == 1 and "no.such.queue: no such queue" in errors
