"""What a service on this log reports to Kubernetes and Prometheus (``service_runtime.ops``):
ready when PostgreSQL answers with every migration applied, RabbitMQ answers and every consumer
consumes; the outbox lag (events recorded and not yet published) refreshed before each
scrape."""

from __future__ import annotations

from typing import Protocol

import aio_pika
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import Gauge

from eventlog.postgres import PostgresEventStore
from service_runtime.ops import Readiness, Refresh

OUTBOX_LAG = Gauge("support_outbox_lag_events", "Events recorded and not yet published", ["log"])


class BrokerProbe:
    """RabbitMQ answers: a channel opens and closes on a connection kept for probing."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: AbstractRobustConnection | None = None

    async def __call__(self) -> None:
        if self._connection is None or self._connection.is_closed:
            self._connection = await aio_pika.connect_robust(self._url)
        channel = await self._connection.channel()
        await channel.close()

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


class Consuming(Protocol):
    """A queue's consumer (of events, or of commands), ready when it takes messages."""

    @property
    def queue_name(self) -> str: ...

    async def ready(self) -> None: ...


def readiness(
    store: PostgresEventStore, broker: BrokerProbe, *consumers: Consuming
) -> list[Readiness]:
    """The database and the broker answer, and each consumer is connected and not waiting out
    an outage (a connection that failed to come back is not ready, though the broker is)."""
    checks = [Readiness("database", store.ready), Readiness("broker", broker)]
    return checks + [Readiness(c.queue_name, c.ready) for c in consumers]


def outbox_lag(store: PostgresEventStore, checkpoint: str = "outbox") -> Refresh:
    async def refresh() -> None:
        head, published = await store.head(), await store.load_checkpoint(checkpoint)
        OUTBOX_LAG.labels(store.schema).set(max(0, head - published))

    return refresh
