"""``make demo`` keeps working: the whole story runs to its end through the gateway and the
relay in both modes, every refusal it shows is refused, and it leaves nothing behind."""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg
import pytest

pytestmark = [pytest.mark.timeout(180), pytest.mark.integration]  # the demo as a process


async def run_demo(env: dict[str, str], *, ok: bool = True) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "support_demo",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 150)
    text = output.decode()
    assert (process.returncode == 0) is ok, text
    return text


def check_story(text: str) -> None:
    assert "[15/15]" in text
    assert text.count("refused, as it should be") == 8
    assert "409 session_limit" in text and "403 not_controller" in text
    assert "at most 345 characters" in text and "409 waiting_for_agent" in text
    assert "409 used" in text and "409 revoked" in text and "409 session_ended" in text
    assert "Bob sees Alice's screen (1 frame)" in text
    assert "desktop sharing ended (active_customer_changed)" in text
    assert "chat ended (control_transferred)" in text
    assert "the relay tells Dana: the session ended (ended_by_controller)" in text
    assert "assigned: True; the controller is now dave" in text
    assert "position 1 of 1, offered to Dave" in text
    assert "routing.OfferAccepted              1" in text
    assert "done: 16 events in the session's stream, 48 published" in text


def without_services() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("AMQP_URL", "DATABASE_URL")}


async def test_the_demo_runs_embedded() -> None:
    text = await run_demo({**without_services(), "DEMO_MODE": "embedded"})
    assert "embedded: every service in this process" in text
    check_story(text)


async def test_variables_that_point_at_nothing_are_said_to_be_wrong() -> None:
    env = {**without_services(), "AMQP_URL": "amqp://guest:guest@127.0.0.1:1/"}
    text = await run_demo(env, ok=False)
    assert "does not answer" in text and "scripts/services-up" in text


@pytest.mark.integration
async def test_the_demo_runs_every_service_as_a_process_on_rabbitmq_and_postgresql(
    amqp_url: str, database_url: str
) -> None:
    text = await run_demo({**os.environ, "AMQP_URL": amqp_url, "DATABASE_URL": database_url})
    assert "media-relay and the gateway as their own processes" in text
    check_story(text)
    conn = await asyncpg.connect(database_url)
    schemas = text.split("(schemas ")[1].split(")")[0].split(", ")
    left = await conn.fetchval(
        "SELECT count(*) FROM pg_namespace WHERE nspname = ANY($1::text[])", schemas
    )
    await conn.close()
    assert len(schemas) == 5 and left == 0
