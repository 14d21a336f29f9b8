"""Issue 13.1 and 13.6: PostgreSQL stopped and started, and its postmaster killed, under a
steady stream of appends. Two outbox relays on one log: never both leading at once, and every
committed event published. session-svc, while the database is away, answers 503
``unavailable`` (never a 500), and works again once it is back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from eventlog import NewEvent, OutboxRelay, StreamState
from eventlog.postgres import PostgresEventStore
from session_svc import bootstrap
from session_svc.settings import Settings
from support_contracts import Envelope
from support_contracts.refusals import Refusal
from support_rpc import RpcClient, RpcTimeout
from support_testkit import eventually
from support_testkit.private import PrivatePostgres, PrivateRabbit

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


class Published:
    """A publisher that notes who published what (the broker is not under test here)."""

    def __init__(self) -> None:
        self.ids: list[UUID] = []

    async def publish(self, events: Sequence[Envelope]) -> None:
        self.ids.extend(e.event_id for e in events)


def _event() -> NewEvent:
    ids = uuid4()
    return NewEvent("Ping", {}, ids, datetime.now(UTC), ids, ids)


async def _connect(url: str, schema: str) -> PostgresEventStore:
    async def connected() -> PostgresEventStore | None:
        with contextlib.suppress(Exception):
            return await PostgresEventStore.connect(url, schema)
        return None

    return await eventually(connected, within=60, what="the database answering")


async def test_two_relays_never_lead_at_once_across_restarts_and_crashes(
    postgres: PrivatePostgres,
) -> None:
    schema = f"relays_{uuid4().hex[:8]}"
    stores = [await _connect(postgres.url, schema) for _ in range(2)]
    outs = [Published(), Published()]
    relays = [
        OutboxRelay(store, out, retry_seconds=0.2, idle_seconds=0.2)
        for store, out in zip(stores, outs, strict=True)
    ]
    committed: list[UUID] = []
    overlaps = 0

    async def write() -> None:
        while True:
            event = _event()
            with contextlib.suppress(Exception):  # refused while the database is away
                await stores[0].append(f"ping-{event.event_id}", [event], StreamState.ANY)
                committed.append(event.event_id)
            await asyncio.sleep(0.01)

    async def watch() -> None:
        nonlocal overlaps
        while True:
            overlaps += all(r.leading for r in relays)
            await asyncio.sleep(0.002)

    tasks = [asyncio.create_task(t) for t in (write(), watch(), *(r.run() for r in relays))]
    try:
        for fault in (postgres.stop, postgres.kill_postmaster):
            await eventually(lambda: len(committed) > 50, what="appends before the fault")
            await asyncio.to_thread(fault)
            await asyncio.sleep(1)
            await asyncio.to_thread(postgres.start)
            before = len(committed)
            await eventually(lambda b=before: len(committed) > b + 50, within=60, what="appends")
            await eventually(
                lambda: set(committed) <= set(outs[0].ids) | set(outs[1].ids),
                within=60,
                what="every committed event published",
            )
            assert overlaps == 0, "two relays led at once"
            committed.clear()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for store in stores:
            with contextlib.suppress(Exception):
                await store.drop()
            await store.close()


async def test_session_svc_answers_503_while_its_database_is_away(
    postgres: PrivatePostgres, rabbit: PrivateRabbit
) -> None:
    settings = Settings(
        amqp_url=rabbit.url,
        database_url=postgres.url,
        database_schema=f"session_{uuid4().hex[:8]}",
        queue_prefix=f"faults.{uuid4().hex[:8]}.",
        exchange="faults.events",
    )
    service = await bootstrap.start(settings)
    client = await RpcClient(rabbit.url).connect()

    async def start_session() -> dict[str, object]:
        ids = {"command_id": str(uuid4()), "correlation_id": str(uuid4())}
        command = {**ids, "actor_id": "alice", "csr_id": f"csr-{uuid4().hex[:6]}"}
        command |= {"csr_name": "Alice", "email_invite": False}
        return await client.call(settings.command_queue, "StartSession", command, within_seconds=5)

    try:
        assert (await start_session())["session"]
        await asyncio.to_thread(postgres.stop)
        statuses = []
        for _ in range(3):
            try:
                await start_session()
                statuses.append(200)
            except Refusal as error:
                statuses.append(error.status)
                assert error.status == 503 and error.code == "unavailable", error
            except RpcTimeout:
                statuses.append(504)
        assert 503 in statuses and 500 not in statuses, statuses
        await asyncio.to_thread(postgres.start)

        async def works() -> bool:
            with contextlib.suppress(Refusal, RpcTimeout):
                return bool(await start_session())
            return False

        await eventually(works, within=60, what="session-svc working again")
    finally:
        await client.close()
        await service.stop()
