"""The bare request/reply peer of ``run.py``: answers every message on the queue at once with
a fixed reply, doing no work (aio-pika, as our services use it)."""

from __future__ import annotations

import asyncio
import sys

import aio_pika
import uvloop


async def serve(url: str, queue_name: str) -> None:
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=64)
    queue = await channel.declare_queue(queue_name, auto_delete=True)

    async def answer(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        reply = aio_pika.Message(
            b'{"ok": true, "result": {}}', correlation_id=message.correlation_id
        )
        await channel.default_exchange.publish(reply, routing_key=str(message.reply_to))
        await message.ack()

    await queue.consume(answer)
    await asyncio.Future()


if __name__ == "__main__":
    uvloop.run(serve(sys.argv[1], sys.argv[2]))
