"""A listener over the real RabbitMQ (issue 19): with ``wants``, the events of streams nobody
here watches are dropped by their ``stream_id`` header, unread; the others are delivered in
order (the gateway's live updates drop the sessions nobody follows in that replica)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from eventlog.rabbit import RabbitPublisher
from service_runtime.brokers import Listening, RabbitBroker
from support_contracts import Envelope
from support_testkit.plugin import RabbitNames

pytestmark = pytest.mark.timeout(30)


def event(stream_id: str, n: int) -> Envelope:
    return Envelope.model_validate(
        {
            "event_id": str(uuid4()), "type": "ConsoleSeen", "schema_version": 1,
            "stream_id": stream_id, "stream_version": n, "global_position": n,
            "occurred_at": datetime.now(UTC), "correlation_id": str(uuid4()),
            "causation_id": str(uuid4()), "data": {"csr_id": "alice"},
        }
    )  # fmt: skip


async def test_a_listener_drops_unread_what_no_stream_here_wants(
    amqp_url: str, rabbit_names: RabbitNames
) -> None:
    watched, other = f"session-{uuid4()}", f"session-{uuid4()}"
    delivered: list[Envelope] = []
    last = asyncio.Event()

    def deliver(envelope: Envelope) -> None:
        delivered.append(envelope)
        if envelope.stream_version == 3:
            last.set()

    broker = RabbitBroker(amqp_url, rabbit_names.exchange)
    listener = broker.listener(
        Listening(rabbit_names.prefix, ["session.#"], deliver, lambda: None, wants=watched.__eq__)
    )
    await listener.start()
    publisher = await RabbitPublisher(amqp_url, rabbit_names.exchange).connect()
    try:
        sent = [event(watched, 1), event(other, 2), event(watched, 3)]
        await publisher.publish(sent)
        await asyncio.wait_for(last.wait(), 10)  # the last one sent: the other came before it
    finally:
        await publisher.close()
        await listener.close()
        await broker.close()
    assert [e.event_id for e in delivered] == [sent[0].event_id, sent[2].event_id]
