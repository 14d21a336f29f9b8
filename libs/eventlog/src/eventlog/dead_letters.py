"""What ops do with a consumer's dead letters (``<queue>.dead``, see ``eventlog.rabbit``): list
them with the error that put each there, and, once the cause is fixed, send them back to the
consumer's queue to be handled again (``supportctl dead list|redrive``).

Listing takes every message without acknowledging it and gives them all back when it is done,
so it removes nothing and keeps their order (a quorum queue puts a message given back behind
those still there: giving back only the first few would move them to the end).

Re-driving publishes each message to the consumer's own queue (not the exchange: no other
consumer gets it twice), waits for the broker's confirm, and only then removes it from the
dead letters: a crash in between leaves a copy in both, and the consumer's inbox takes an
event once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractQueue

from eventlog.rabbit import moved

WHY = ("x-error", "x-attempts", "x-consumer", "x-original-routing-key")
DROPPED = (*WHY, "x-delivery-count")  # a fresh start: the consumer counts its tries again


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    type: str | None
    routing_key: str
    consumer: str
    attempts: int
    error: str
    body: bytes

    def summary(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id, "type": self.type, "routing_key": self.routing_key,
            "consumer": self.consumer, "attempts": self.attempts, "error": self.error,
        }  # fmt: skip


def _letter(message: aio_pika.abc.AbstractIncomingMessage) -> DeadLetter:
    headers = message.headers
    return DeadLetter(
        message_id=message.message_id,
        type=message.type,
        routing_key=str(headers.get("x-original-routing-key", "")),
        consumer=str(headers.get("x-consumer", "")),
        attempts=int(str(headers.get("x-attempts", 0))),
        error=str(headers.get("x-error", "")),
        body=message.body,
    )


@asynccontextmanager
async def _dead_queue(url: str, queue: str) -> AsyncIterator[tuple[AbstractChannel, AbstractQueue]]:
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        for name in (queue, f"{queue}.dead"):
            try:
                found = await channel.declare_queue(name, passive=True)
            except aio_pika.exceptions.ChannelClosed as error:
                raise LookupError(f"{name}: no such queue on this broker") from error
        yield channel, found


async def list_dead(url: str, queue: str, *, limit: int = 100) -> list[DeadLetter]:
    """The first ``limit`` of ``queue``'s dead letters, oldest first; none is removed."""
    letters = []
    async with _dead_queue(url, queue) as (_, dead):
        while (message := await dead.get(fail=False)) is not None:
            letters.append(_letter(message))
        # closing the channel gives every unacknowledged message back, in their order
    return letters[:limit]


async def redrive(url: str, queue: str, *, limit: int | None = None) -> int:
    """Move up to ``limit`` (all) dead letters back to ``queue``; how many were moved."""
    count = 0
    async with _dead_queue(url, queue) as (channel, dead):
        while limit is None or count < limit:
            message = await dead.get(fail=False)
            if message is None:
                break
            headers = {k: v for k, v in message.headers.items() if k not in DROPPED}
            headers["x-redriven"] = int(str(message.headers.get("x-redriven", 0))) + 1
            again = moved(message, headers)
            await channel.default_exchange.publish(again, routing_key=queue)  # confirmed
            await message.ack()
            count += 1
    return count
