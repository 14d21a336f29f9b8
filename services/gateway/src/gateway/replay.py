"""``supportctl replay``: backfill a new analytics consumer from the services' logs (E2).

The consumer first binds its own queue to ``support.events`` (so nothing published from then
on is missed), then runs the replay, which publishes the events each named log recorded itself
(what its outbox relay publishes: not the relay's kept copies of session events, issue 14.5)
after that log's position to a backfill queue of the consumer's, each log in its global order,
persistent and confirmed. The consumer reads the backfill queue to its end, then its own
queue, skipping the event ids it has seen: events overlap, none is missing, and the events of
one stream (one session) come in their order, because each stream lives in one log.

Reads each service's schema in PostgreSQL directly (an ops tool, run beside the database), and
never writes to it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping

import aio_pika
import asyncpg

from eventlog.postgres import PostgresEventStore
from gateway.logs import OWN_CONTEXT
from support_contracts import EVENTS, Envelope


async def replay(
    database_url: str,
    amqp_url: str,
    queue: str,
    logs: Mapping[str, str],
    after: Mapping[str, int],
    *,
    progress: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
    batch: int = 500,
) -> dict[str, int]:
    """Publish the own events of each log (service: schema) after its position in ``after`` to
    ``queue``; the last position read of each log, by service (to resume from)."""
    connection = await aio_pika.connect_robust(amqp_url)
    last: dict[str, int] = {}
    try:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(queue, durable=True)
        for service, schema in logs.items():
            log = schema if schema == service else f"{service} ({schema})"
            if not await _exists(database_url, schema):
                progress(f"{log}: no such log here, passed over")
                continue
            store = await PostgresEventStore.connect(database_url, schema, max_size=2)
            position, count = after.get(service, -1), 0
            try:
                while read := await store.read_all(position, batch):
                    events = [e for e in read if _own(e, OWN_CONTEXT[service])]
                    messages = [
                        aio_pika.Message(
                            envelope.model_dump_json().encode(),
                            content_type="application/json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            message_id=str(envelope.event_id),
                            type=envelope.type,
                        )
                        for envelope in events
                    ]
                    # a batch in flight at once, in order on the channel; every confirm awaited
                    await asyncio.gather(
                        *(channel.default_exchange.publish(m, routing_key=queue) for m in messages)
                    )
                    position, count = read[-1].global_position, count + len(events)
                    progress(f"{log}: {count} events replayed, at position {position}")
            finally:
                await store.close()
            last[service] = position
            progress(f"{log}: done, {count} events, last position {position}")
    finally:
        await connection.close()
    return last


def _own(envelope: Envelope, context: str) -> bool:
    """Recorded by this log's service, not kept from another's (the outbox relay's filter)."""
    return EVENTS.get(envelope.type).context == context


async def _exists(database_url: str, schema: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        found = await conn.fetchval(
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_schema = $1 AND table_name = 'events'",
            schema,
        )
        return found is not None
    finally:
        await conn.close()
