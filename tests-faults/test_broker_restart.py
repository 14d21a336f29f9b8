"""Issue 13.5: RabbitMQ stopped and started again. While it is away, a request fails within its
timeout as unavailable (never a hang of 12-25 s, never a bare error) and the command server and
an event consumer report not ready; once it is back, requests go through again, the consumer
consumes again and the gateway's live feed subscribes again and delivers, by themselves."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import pytest

from eventlog import Inbox, InMemoryEventStore, Transaction
from eventlog.rabbit import RabbitEventConsumer
from gateway.live import LiveFeed
from service_runtime.brokers import RabbitBroker
from support_contracts import Envelope
from support_rpc import RpcClient, RpcServer, RpcTimeout, RpcUnavailable
from support_rpc.amqp import SharedConnection
from support_testkit import eventually
from support_testkit.private import PrivateRabbit

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

TIMEOUT = 2.0


async def echo(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
    return {"echo": command}


async def _answered(client: RpcClient) -> bool:
    try:
        await client.call("faults.commands", "Echo", {"n": 1}, within_seconds=TIMEOUT)
    except RpcTimeout:  # RpcUnavailable too: the broker, or the server, not back yet
        return False
    return True


def _event(session_id: str, version: int) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": str(uuid4()),
            "type": "CustomerJoined",
            "schema_version": 1,
            "stream_id": f"session-{session_id}",
            "stream_version": version,
            "global_position": version,
            "occurred_at": "2026-12-02T12:00:00.000000Z",
            "correlation_id": str(uuid4()),
            "causation_id": str(uuid4()),
            "data": {"participant_id": "p1", "name": "Cy", "via": "session_number"},
        }
    )


async def _publish(url: str, envelope: Envelope) -> None:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "faults.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        await exchange.publish(
            aio_pika.Message(envelope.model_dump_json().encode()), routing_key=envelope.routing_key
        )


async def _ready(part: RpcServer | RabbitEventConsumer | LiveFeed) -> bool:
    try:
        await part.ready()
    except RuntimeError:
        return False
    return True


async def _not_ready(part: RpcServer | RabbitEventConsumer | LiveFeed) -> bool:
    return not await _ready(part)


@pytest.mark.parametrize("connection", ["shared", "each its own"])
async def test_requests_fail_in_time_while_the_broker_is_away_and_work_again_after(
    rabbit: PrivateRabbit, connection: str
) -> None:
    """Shared: every part on the process's one connection, as a service runs (issue 15.8);
    each its own: every part given the url, as a tool or a benchmark uses them."""
    broker = RabbitBroker(rabbit.url, "faults.events", retry_seconds=0.2)
    source: str | SharedConnection = broker.connection if connection == "shared" else rabbit.url
    server = await RpcServer(source, "faults.commands", echo).start()
    client = await RpcClient(source).connect()
    live = await LiveFeed(broker, "faults.live").start()
    handled: list[Envelope] = []

    async def project(envelope: Envelope, tx: Transaction) -> None:
        handled.append(envelope)

    inbox = Inbox(InMemoryEventStore(), "faults", project)
    consumer = RabbitEventConsumer(
        source, "faults.consumer", ["#"], inbox, exchange="faults.events"
    )
    await consumer.start()
    session_id = str(uuid4())
    try:
        assert await _answered(client)
        assert await _ready(server) and await _ready(consumer)
        await asyncio.to_thread(rabbit.stop)

        began = time.monotonic()
        with pytest.raises(RpcUnavailable):
            await client.call("faults.commands", "Echo", {}, within_seconds=TIMEOUT)
        assert time.monotonic() - began < TIMEOUT + 1.0, "the request outlived its timeout"
        await eventually(lambda: _not_ready(live), what="the live feed's loss noticed")
        for part in (server, consumer):  # not ready while they cannot take messages
            await eventually(lambda p=part: _not_ready(p), what=f"{part.queue_name} not ready")

        await asyncio.to_thread(rabbit.start)
        await eventually(lambda: _answered(client), within=60, what="requests answered again")
        await eventually(lambda: _ready(live), within=30, what="the live feed back")
        for part in (server, consumer):  # the robust connections came back by themselves
            await eventually(lambda p=part: _ready(p), within=30, what="ready again")
        with live.watch(UUID(session_id)) as arrivals:
            await _publish(rabbit.url, _event(session_id, 3))
            arrived = await asyncio.wait_for(arrivals.get(), 10)
        assert arrived is not None and arrived.stream_version == 3
        await eventually(lambda: handled, within=10, what="the consumer consuming again")
        assert handled[0].stream_version == 3
    finally:
        await consumer.stop()
        await live.close()
        await client.close()
        await asyncio.wait_for(server.stop(grace_seconds=1), 10)
        await broker.close()
