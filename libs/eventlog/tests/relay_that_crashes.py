"""A relay process that dies (os._exit, no clean-up) right after the broker confirmed its
first batch and before it records its position: the crash of the outbox test."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from eventlog import OutboxRelay
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitPublisher
from support_contracts import Envelope


class DiesAfterConfirm(RabbitPublisher):
    async def publish(self, events: Sequence[Envelope]) -> None:
        await super().publish(events)
        print(f"confirmed {len(events)}", flush=True)
        os._exit(9)


async def main(dsn: str, schema: str, amqp_url: str, exchange: str) -> None:
    store = await PostgresEventStore.connect(dsn, schema)
    relay = OutboxRelay(store, DiesAfterConfirm(amqp_url, exchange), batch=5)
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
