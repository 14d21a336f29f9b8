"""``make demo`` keeps working: the whole story runs to its end through the gateway and the
relay in both modes, every refusal it shows is refused, and it leaves nothing behind."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

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


REFUSALS = [  # in the story's order, each as the API answered it
    "409 session_limit",  # S2: a second session in single-session mode
    "409 used",  # I2: an invitation for a csr works once
    "403 not_controller",  # M2: only the controller starts an activity (the relay)
    "403 not_controller",  # S8, S10: an assistant may not end the session
    "422 invalid",  # S9: a hand-off message of 346 characters
    "409 waiting_for_agent",  # S11: nobody joins a waiting session
    "409 session_ended",  # S10: nor an ended one
    "409 revoked",  # I2: the invitations of an ended session are revoked
    "422 code_required",  # R11: the Billing queue wants a wrap-up code
]


def summary_of(text: str) -> dict[str, Any]:
    """The story's last line, ``summary: {...}``: what it saw, for programs."""
    [line] = [line for line in text.splitlines() if line.startswith("summary: ")]
    summary: dict[str, Any] = json.loads(line.removeprefix("summary: "))
    return summary


def check_story(text: str) -> None:
    summary = summary_of(text)
    assert summary["steps"] == 17
    assert summary["refusals"] == REFUSALS
    assert summary["observed"] == {
        "frames_bob_saw": 1,  # M1, S6: the customer sees the controller's screen
        "chat_alice_read": "My printer prints blank pages",
        "sharing_ended": "active_customer_changed",  # S5, M3
        "chat_ended": "control_transferred",  # S8, M3
        "assigned": True,  # R6: the accepting agent is the controller
        "controller_after_handoff": "dave",
        "dana_told_the_end": "ended_by_controller",  # S10
        "erin_waits": [1, 1],  # R5: position 1 of 1
        "skills": {  # R9: the best match first, and a wider match after the relaxation step
            "frank_to_gwen": True,
            "hank_offers_at_1_s": 0,
            "grace_to_hank_after_relaxing": True,
        },
        "wrap_up_and_overflow": {"codes": ["refunded", "explained"], "ivy_to_ivan": True},
    }
    assert summary["session_events"] == 16
    assert summary["published"]["routing.OfferAccepted"] == 3
    assert summary["published"]["routing.TaskOverflowed"] == 1  # R14
    assert summary["published"]["routing.WrapUpFinished"] == 1  # R11
    # R16's interval figures come when the wall clock passes a quarter hour: a run across one
    # published two more (a CI run at 10:15), so they are not counted
    clocked = {"routing.QueueIntervalEnded"}
    assert sum(n for kind, n in summary["published"].items() if kind not in clocked) == 87
    assert "at most 345 characters" in text  # the refusal's message, as the csr reads it


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
