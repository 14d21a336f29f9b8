"""``make demo`` keeps working: the story runs to its end in both modes, every refusal it
shows is refused, and it leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest


async def run_demo(env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "support_demo",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode()
    assert process.returncode == 0, text
    return text


def check_story(text: str) -> None:
    assert "[14/14]" in text
    assert text.count("refused, as it should be") == 7
    assert "409 session_limit" in text and "403 not_controller" in text
    assert "at most 345 characters" in text and "409 session_ended" in text
    assert "409 used" in text and "409 revoked" in text
    assert "Dave's slot is free again" in text and "position 1 of 1, offered to Dave" in text
    assert "routing.OfferAccepted              1" in text
    assert "done: 18 events in the session's stream, 47 published" in text


async def test_the_demo_runs_embedded_by_default() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("AMQP_URL", "DATABASE_URL")}
    text = await run_demo(env)
    assert "embedded: session-svc, invite-svc and routing-svc in this process" in text
    check_story(text)


@pytest.mark.integration
async def test_the_demo_runs_against_rabbitmq_and_postgresql(
    amqp_url: str, database_url: str
) -> None:
    text = await run_demo({**os.environ, "AMQP_URL": amqp_url, "DATABASE_URL": database_url})
    assert "real: session-svc, invite-svc and routing-svc as their own processes" in text
    check_story(text)
    conn = await asyncpg.connect(database_url)
    schemas = text.split("(schemas ")[1].split(")")[0].split(", ")
    left = await conn.fetchval(
        "SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1::text[])", schemas
    )
    await conn.close()
    assert len(schemas) == 3 and left == 0
