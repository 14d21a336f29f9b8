"""R6 on the real PostgreSQL: three replicas, many agents accepting the same offers at the
same instant. From the log: no task won twice, no agent ever over capacity."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from eventlog import NO_STREAM, ConcurrencyConflict, NewEvent
from eventlog.postgres import PostgresEventStore
from routing_svc.domain.state import fold_task
from routing_svc.domain.tasks import make_offers
from routing_svc.writing import RoutingLog, agent_stream, case_stream
from support_contracts import Event
from support_contracts.refusals import StateForbids
from support_contracts.routing import (
    AcceptOffer,
    AgentConfigured,
    AgentStatusChanged,
    TaskQueued,
    TaskSource,
)
from support_contracts.vocabulary import AgentStatus
from support_testkit.plugin import fresh_schema

pytestmark = pytest.mark.integration

AGENTS, CAPACITY, TASKS = 12, 2, 30


def recorded(*events: Event) -> list[NewEvent]:
    cause = uuid4()
    return [
        NewEvent.from_event(
            e, occurred_at=datetime.now(UTC), correlation_id=cause, causation_id=cause
        )
        for e in events
    ]


async def test_r6_exactly_one_winner_per_task_and_no_agent_over_capacity(
    database_url: str,
) -> None:
    async with fresh_schema(database_url) as schema:
        stores = [
            await PostgresEventStore.connect(database_url, schema, max_size=8) for _ in range(3)
        ]
        replicas = [RoutingLog(s) for s in stores]
        agents = [f"agent-{n}" for n in range(AGENTS)]
        for agent_id in agents:
            await stores[0].append(
                agent_stream(agent_id),
                recorded(
                    AgentConfigured(agent_id=agent_id, name=agent_id, max_sessions=CAPACITY),
                    AgentStatusChanged(agent_id=agent_id, status=AgentStatus.AVAILABLE),
                ),
                NO_STREAM,
            )
        offers = []  # (task, offer, agent): every task offered to everybody
        for _ in range(TASKS):
            session_id = uuid4()
            queued = TaskQueued(
                task_id=uuid4(), session_id=session_id, source=TaskSource.HAND_OFF, queue_id=uuid4()
            )
            await stores[0].append(case_stream(session_id), recorded(queued), NO_STREAM)
            task = fold_task(await stores[0].read_stream(case_stream(session_id)))
            ids = [uuid4() for _ in agents]
            made = make_offers(
                task, agents, offer_ids=ids, now=datetime.now(UTC), timeout=timedelta(minutes=5)
            )
            await stores[0].append(case_stream(session_id), recorded(*made), task.version)
            offers += [
                (session_id, offer_id, agent_id)
                for offer_id, agent_id in zip(ids, agents, strict=True)
            ]

        async def accept(n: int, session_id: object, offer_id: object, agent_id: str) -> str:
            cmd = AcceptOffer.new(
                actor_id=agent_id,
                session_id=session_id,
                offer_id=offer_id,
                agent_id=agent_id,
            )
            try:
                await replicas[n % 3].accept(cmd)
                return "won"
            except (StateForbids, ConcurrencyConflict):
                return "refused"

        outcomes = await asyncio.gather(*(accept(n, *o) for n, o in enumerate(offers)))
        won = Counter(outcomes)["won"]

        everything = await stores[0].read_all(limit=100_000)
        winners = Counter(e.data["task_id"] for e in everything if e.type == "OfferAccepted")
        assert winners and max(winners.values()) == 1, "a task won twice"
        load = Counter(e.data["agent_id"] for e in everything if e.type == "AgentSessionStarted")
        assert max(load.values()) <= CAPACITY, "an agent over capacity"
        assert won == sum(winners.values()) == sum(load.values()) <= AGENTS * CAPACITY
        for store in stores:
            await store.close()
