"""R6 on the real PostgreSQL: three replicas, many agents accepting the same offers at the
same instant. From the log: no task won twice, no agent ever over capacity."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg
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


async def available(store: PostgresEventStore, agent_id: str) -> None:
    """The agent configured with ``CAPACITY`` and available."""
    await store.append(
        agent_stream(agent_id),
        recorded(
            AgentConfigured(agent_id=agent_id, name=agent_id, max_sessions=CAPACITY),
            AgentStatusChanged(agent_id=agent_id, status=AgentStatus.AVAILABLE),
        ),
        NO_STREAM,
    )


async def offered(store: PostgresEventStore, agents: list[str]) -> tuple[UUID, list[UUID]]:
    """A session's task queued and offered to every one of ``agents``: its id, the offers'."""
    session_id = uuid4()
    queued = TaskQueued(
        task_id=uuid4(), session_id=session_id, source=TaskSource.HAND_OFF, queue_id=uuid4()
    )
    await store.append(case_stream(session_id), recorded(queued), NO_STREAM)
    task = fold_task(await store.read_stream(case_stream(session_id)))
    ids = [uuid4() for _ in agents]
    made = make_offers(
        task, agents, offer_ids=ids, now=datetime.now(UTC), timeout=timedelta(minutes=5)
    )
    await store.append(case_stream(session_id), recorded(*made), task.version)
    return session_id, ids


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
            await available(stores[0], agent_id)
        offers = []  # (task, offer, agent): every task offered to everybody
        for _ in range(TASKS):
            session_id, ids = await offered(stores[0], agents)
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


async def test_issue_19_an_accept_is_two_statements_and_no_transaction(database_url: str) -> None:
    """The task's stream and the agent's read in one statement, both appended in another
    (``EventStore.decision``); in a transaction it was BEGIN, the agent, the task, two
    appends and COMMIT."""
    statements: list[str] = []

    def logged(query: asyncpg.connection.LoggedQuery) -> None:
        statements.append(query.query.split()[0])

    async with fresh_schema(database_url) as schema:
        store = await PostgresEventStore.connect(database_url, schema, max_size=1)
        try:
            agent = "agent-1"
            await available(store, agent)
            async with store._pool.acquire() as conn:  # the pool's one connection
                conn.add_query_logger(logged)
            routing = RoutingLog(store)
            for _ in range(2):  # the second time, asyncpg knows every statement and type
                session_id, [offer_id] = await offered(store, [agent])
                await asyncio.sleep(0.05)  # asyncpg calls its query loggers soon after
                statements.clear()
                cmd = AcceptOffer.new(
                    actor_id=agent, session_id=session_id, offer_id=offer_id, agent_id=agent
                )
                await routing.accept(cmd)
                await asyncio.sleep(0.05)
            assert statements == ["SELECT", "WITH"], statements
            taken = [e.type for e in await store.read_stream(agent_stream(agent))]
            assert taken.count("AgentSessionStarted") == 2
        finally:
            await store.close()
