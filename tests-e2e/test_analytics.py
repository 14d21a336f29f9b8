"""E2: a new analytics consumer backfills from the beginning of the logs with
``supportctl replay``, then follows its own queue, and misses nothing, counts nothing twice and
sees every session's events in their order; and a replay publishes each event once, from the
log that recorded it. The consumer is ``examples/analytics_consumer.py``."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import aio_pika
import httpx
import pytest

from eventlog.postgres import PostgresEventStore
from gateway.replay import replay
from support_testkit import eventually

from .helpers import ALICE, ALWAYS, ROOT, ZOE, call, offer_for
from .stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def consumer_module() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "examples" / "analytics_consumer.py"
    spec = importlib.util.spec_from_file_location("analytics_consumer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def a_session(api: httpx.AsyncClient, csr: dict[str, str]) -> dict[str, Any]:
    started = await call(api, "POST", "/v1/sessions", csr, {"email_invite": False}, status=201)
    join = {"session_number": started["session_number"], "name": "Carol"}
    await call(api, "POST", "/v1/join", {}, join)
    return started


async def test_e2_backfill_then_follow_misses_nothing_and_keeps_each_session_in_order(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    analytics = consumer_module()
    # before the consumer exists: a session handed to a queue and taken by an agent
    for agent in ("alice", "zoe"):
        await call(
            api, "PUT", f"/v1/admin/agents/{agent}", ROOT, {"name": agent, "max_sessions": 2}
        )
    await call(api, "PUT", "/v1/agents/me/status", ZOE, {"status": "available"})
    queue = {"name": "Q", "agent_ids": ["zoe"], "policy": "everybody", "time_zone": "UTC",
             "hours": ALWAYS, "escalation_seconds": 600, "offer_timeout_seconds": 60}  # fmt: skip
    queue_id = (await call(api, "POST", "/v1/admin/queues", ROOT, queue, status=201))["queue_id"]
    first = await a_session(api, ALICE)
    handoff = {"queue_id": queue_id, "message": "printer"}
    await call(api, "POST", f"/v1/sessions/{first['session_id']}/handoff", ALICE, handoff)
    offer = await offer_for(api, ZOE, first["session_id"])
    await call(api, "POST", f"/v1/offers/{offer}/accept", ZOE)
    await call(api, "POST", f"/v1/sessions/{first['session_id']}/end", ZOE)

    # the consumer binds its queue; then events go on while the backfill runs
    connection = await aio_pika.connect_robust(stack.amqp_url)
    live, backfill = stack.names.queue("analytics"), stack.names.queue("analytics-backfill")
    await analytics.declare(await connection.channel(), live, stack.names.exchange)
    second = await a_session(api, ALICE)
    lines: list[str] = []
    every_log = dict.fromkeys(stack.schemas, -1)  # from the beginning of each service's log
    positions = await _replay(stack, backfill, every_log, lines.append)
    await call(api, "POST", f"/v1/sessions/{second['session_id']}/end", ALICE)
    third = await a_session(api, ALICE)
    await call(api, "POST", f"/v1/sessions/{third['session_id']}/end", ALICE)
    await connection.close()

    counts = await analytics.run(
        stack.amqp_url, live, backfill, 3.0, analytics.Counts(), stack.names.exchange
    )
    summary = counts.summary()
    assert (summary["sessions"], summary["handoffs"], summary["assigned_from_queues"]) == (3, 1, 1)
    assert summary["queue_wait_seconds_max"] is not None
    assert counts.in_order()
    for started in (first, second, third):  # every session from its first event to its end
        versions = counts.versions[f"session-{started['session_id']}"]
        assert versions == list(range(len(versions))) and len(versions) >= 4
    assert set(positions) == set(stack.schemas)
    assert any("events replayed" in line for line in lines)


async def test_e2_a_replay_publishes_each_event_once_from_the_log_that_recorded_it(
    stack: Stack, api: httpx.AsyncClient
) -> None:
    """Issue 14.5: the relay keeps copies of session events in its log; a replay publishes
    only what each log recorded itself (what its outbox relay publishes), so the backfill holds
    every event once, with the position of the log that recorded it; ``--from`` is per log."""
    for _ in range(2):
        started = await a_session(api, ALICE)
        await call(api, "POST", f"/v1/sessions/{started['session_id']}/end", ALICE)

    async def copied() -> bool:  # the relay keeps its copy once its inbox took the event
        kept = await _events(stack, "media_relay")
        return sum(e["type"] == "SessionEnded" for e in kept) == 2

    await eventually(copied, what="the relay's copies of the ends")
    queue = stack.names.queue("audit")
    last = await _replay(stack, queue, dict.fromkeys(stack.schemas, -1))
    published = await _drain(stack.amqp_url, queue)
    ids = [e["event_id"] for e in published]
    assert len(ids) == len(set(ids)), "an event published twice"
    recorded = {e["event_id"]: e for e in await _events(stack, "session_svc")}
    sessions = [e for e in published if e["type"].startswith("Session")]
    assert sessions and all(e == recorded[e["event_id"]] for e in sessions)  # session-svc's own
    # resuming one log after its last position publishes nothing more of it
    again = await _replay(stack, queue, {"session_svc": last["session_svc"]})
    assert again == {"session_svc": last["session_svc"]}
    assert await _drain(stack.amqp_url, queue) == []


async def _replay(
    stack: Stack,
    queue: str,
    after: dict[str, int],
    progress: Callable[[str], None] = lambda _: None,
) -> dict[str, int]:
    """``supportctl replay`` of the logs named in ``after``, each after its position there."""
    logs = {service: stack.schemas[service] for service in after}
    return await replay(stack.database_url, stack.amqp_url, queue, logs, after, progress=progress)


async def _events(stack: Stack, service: str) -> list[dict[str, Any]]:
    store = await PostgresEventStore.connect(stack.database_url, stack.schemas[service], max_size=1)
    try:
        return [e.model_dump(mode="json") for e in await store.read_all(-1, 100_000)]
    finally:
        await store.close()


async def _drain(amqp_url: str, queue: str) -> list[dict[str, Any]]:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, durable=True)
        messages = []
        while (message := await declared.get(fail=False)) is not None:
            messages.append(json.loads(message.body))
            await message.ack()
        return messages


def test_r16_the_service_level_report_from_the_intervals_routing_publishes() -> None:
    analytics = consumer_module()
    counts = analytics.Counts()
    queue = "6a1f3c2e-8d1b-4e7a-9c55-0b6f1d2e3a4b"

    def ended(n: int, starts: str, answered: int, in_time: int, abandoned: int) -> dict[str, Any]:
        settled = answered + abandoned
        return {
            "event_id": f"00000000-0000-4000-8000-00000000000{n}", "stream_id": f"queue-stats-{n}",
            "stream_version": 0, "occurred_at": "2026-12-07T10:15:00Z",
            "type": "QueueIntervalEnded",
            "data": {"queue_id": queue, "starts": starts, "offered": answered + abandoned,
                     "answered": answered, "answered_in_time": in_time, "abandoned": abandoned,
                     "service_level": in_time / settled if settled else None},
        }  # fmt: skip

    assert counts.add(ended(1, "2026-12-07T10:00:00Z", answered=8, in_time=6, abandoned=2))
    assert counts.add(ended(2, "2026-12-07T10:15:00Z", answered=10, in_time=10, abandoned=0))
    assert not counts.add(ended(2, "2026-12-07T10:15:00Z", 10, 10, 0))  # delivered twice
    report = counts.service_level()
    assert f"| {queue} | 2026-12-07T10:00:00Z | 10 | 8 | 6 | 2 | 60% |" in report
    assert f"| {queue} | **all 2** | 20 | 18 | 16 | 2 | **80%** |" in report
