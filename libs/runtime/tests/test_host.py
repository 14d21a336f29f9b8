"""The composition root every service starts on (issue 15.1), here on the in-memory store and
broker the embedded demo uses: what a host's relay publishes reaches another host's inbox, a
command served on one is answered to another, it reports what it needs to be ready, and it
stops in order: what takes work in, then its work, then what it used; the store only if it
opened it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from eventlog import InMemoryEventStore, NewEvent, StreamState, Transaction
from service_runtime.brokers import MemoryBroker
from service_runtime.host import Host
from service_runtime.settings import ServiceSettings
from support_contracts import Envelope
from support_contracts.refusals import Refusal
from support_contracts.session import ActiveCustomerSelected

pytestmark = pytest.mark.timeout(30)


class Store(InMemoryEventStore):
    closed = False

    async def close(self) -> None:
        self.closed = True


def settings(schema: str) -> ServiceSettings:
    return ServiceSettings(database_schema=schema)


async def test_what_one_host_publishes_reaches_another_hosts_inbox() -> None:
    broker = MemoryBroker()
    writer = await Host.open("writer", settings("writer"), store=Store(), broker=broker)
    reader = await Host.open("reader", settings("reader"), store=Store(), broker=broker)
    handled: list[Envelope] = []
    arrived = asyncio.Event()

    async def handle(envelope: Envelope, tx: Transaction) -> None:
        handled.append(envelope)
        arrived.set()

    await reader.consume("reader.events", ["session.ActiveCustomerSelected"], handle)
    writer.relay()
    event = NewEvent.from_event(
        ActiveCustomerSelected(participant_id="bob"),
        occurred_at=datetime.now(UTC),
        correlation_id=uuid4(),
        causation_id=uuid4(),
    )
    [appended] = await writer.store.append(f"session-{uuid4()}", [event], StreamState.ANY)
    await asyncio.wait_for(arrived.wait(), 5)
    assert [e.event_id for e in handled] == [appended.event_id]
    await writer.stop()
    await reader.stop()


async def test_a_command_served_on_one_host_is_answered_to_another_refusals_too() -> None:
    broker = MemoryBroker()
    serving = await Host.open("svc", settings("svc"), store=Store(), broker=broker)
    calling = await Host.open("caller", settings("caller"), store=Store(), broker=broker)

    async def handler(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        if command_type == "Refuse":
            raise Refusal(409, "session_ended", "the session has ended")
        return {"echo": command}

    await serving.serve("svc.commands", handler)
    call = await calling.calls("svc.commands")
    assert await call("Echo", {"n": 1}) == {"echo": {"n": 1}}
    with pytest.raises(Refusal) as refused:
        await call("Refuse", {})
    assert (refused.value.status, refused.value.code) == (409, "session_ended")
    ready, _ = serving.ops()
    assert [check.name for check in ready] == ["database", "broker", "svc.commands"]
    for check in ready:
        await check.check()  # all pass while it runs
    await serving.stop()
    await calling.stop()


async def test_a_host_stops_its_doors_then_its_work_then_what_it_used_once() -> None:
    order: list[str] = []

    class Door:
        async def stop(self) -> None:
            order.append("door")

    class Resource:
        async def close(self) -> None:
            order.append("resource")

    async def work() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            order.append("work")
            raise

    given = Store()
    host = await Host.open("svc", settings("svc"), store=given, broker=MemoryBroker())
    host.door(Door())
    host.uses(Resource())
    host.run(work(), "work")
    await asyncio.sleep(0)
    await host.stop()
    await host.stop()
    assert order == ["door", "work", "resource"]
    assert not given.closed  # the store was given: whoever gave it closes it
