"""An analytics consumer of ``support.events`` (E2): counts sessions, hand-offs and how long
sessions waited in queues, and reports each queue's service level from the figures routing
publishes at the end of every 15-minute interval (R16, ``routing.QueueIntervalEnded``). What an
analyst's own consumer would do, in one file.

    # 1. the consumer's queue first, so nothing published from now on is missed
    python examples/analytics_consumer.py --queue analytics --declare-only
    # 2. backfill from the beginning of the logs
    supportctl replay --queue analytics.backfill --from -1
    # 3. read the backfill to its end, then follow live
    python examples/analytics_consumer.py --queue analytics --backfill analytics.backfill

Delivery is at least once and the backfill overlaps what the live queue holds, so events are
counted once by ``event_id``. The events of one session come in their order: a session's
events are one stream of session-svc's log, replayed in that order, then followed live.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractIncomingMessage

EXCHANGE = "support.events"


@dataclass
class Counts:
    sessions: int = 0
    requested: int = 0
    handoffs: int = 0
    assigned: int = 0
    waits: list[float] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    versions: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    intervals: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    _queued_at: dict[str, datetime] = field(default_factory=dict)

    def add(self, envelope: dict[str, Any]) -> bool:
        """Count one event; False if it was counted before."""
        if envelope["event_id"] in self.seen:
            return False
        self.seen.add(envelope["event_id"])
        stream, kind = envelope["stream_id"], envelope["type"]
        self.versions[stream].append(envelope["stream_version"])
        at = datetime.fromisoformat(envelope["occurred_at"].replace("Z", "+00:00"))
        session = envelope["data"].get("session_id") or stream.removeprefix("session-")
        match kind:
            case "SessionStarted":
                self.sessions += 1
            case "SessionRequested":
                self.sessions += 1
                self.requested += 1
            case "HandedToQueue" | "HandedToAgents":
                self.handoffs += 1
            case "TaskQueued":
                self._queued_at[session] = at
            case "OfferAccepted":
                self.assigned += 1
                queued = self._queued_at.pop(session, None)
                if queued is not None:
                    self.waits.append((at - queued).total_seconds())
            case "QueueIntervalEnded":
                self.intervals[envelope["data"]["queue_id"]].append(envelope["data"])
        return True

    def service_level(self) -> str:
        """R16: each queue's service level over the intervals seen, and interval by interval:
        answered in time over answered and abandoned, as routing counts it."""
        lines = ["| queue | interval | offered | answered | in time | abandoned | service level |",
                 "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
        for queue_id, seen in sorted(self.intervals.items()):
            for i in sorted(seen, key=lambda i: str(i["starts"])):
                level = "-" if i["service_level"] is None else f"{i['service_level']:.0%}"
                lines.append(
                    f"| {queue_id} | {i['starts']} | {i['offered']} | {i['answered']} |"
                    f" {i['answered_in_time']} | {i['abandoned']} | {level} |"
                )
            settled = sum(i["answered"] + i["abandoned"] for i in seen)
            in_time = sum(i["answered_in_time"] for i in seen)
            level = f"{in_time / settled:.0%}" if settled else "-"
            lines.append(f"| {queue_id} | **all {len(seen)}** | {sum(i['offered'] for i in seen)}"
                         f" | {sum(i['answered'] for i in seen)} | {in_time} |"
                         f" {sum(i['abandoned'] for i in seen)} | **{level}** |")  # fmt: skip
        return "\n".join(lines)

    def in_order(self) -> bool:
        """Every stream's events arrived as 0, 1, 2, ... (from where the consumer started)."""
        return all(v == list(range(v[0], v[0] + len(v))) for v in self.versions.values())

    def summary(self) -> dict[str, Any]:
        waits = sorted(self.waits)
        return {
            "sessions": self.sessions,
            "entry_form_requests": self.requested,
            "handoffs": self.handoffs,
            "assigned_from_queues": self.assigned,
            "queue_wait_seconds_median": waits[len(waits) // 2] if waits else None,
            "queue_wait_seconds_max": waits[-1] if waits else None,
            "events": len(self.seen),
        }


async def declare(
    channel: aio_pika.abc.AbstractChannel, queue: str, exchange_name: str = EXCHANGE
) -> aio_pika.abc.AbstractQueue:
    exchange = await channel.declare_exchange(
        exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
    )
    declared = await channel.declare_queue(queue, durable=True)
    await declared.bind(exchange, "#")
    return declared


async def drain(queue: aio_pika.abc.AbstractQueue, counts: Counts) -> int:
    """Everything waiting in ``queue`` now, in order."""
    read = 0
    while (message := await queue.get(fail=False)) is not None:
        counts.add(json.loads(message.body))
        await message.ack()
        read += 1
    return read


async def run(
    amqp_url: str,
    queue: str,
    backfill: str | None,
    seconds: float,
    counts: Counts,
    exchange: str = EXCHANGE,
) -> Counts:
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=100)
        live = await declare(channel, queue, exchange)
        if backfill is not None:
            await drain(await channel.declare_queue(backfill, durable=True), counts)
        done = asyncio.Event()

        async def on_message(message: AbstractIncomingMessage) -> None:
            async with message.process():
                counts.add(json.loads(message.body))

        await live.consume(on_message)
        try:
            await asyncio.wait_for(done.wait(), seconds)
        except TimeoutError:
            pass
    finally:
        await connection.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", required=True)
    parser.add_argument("--backfill")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to follow live")
    parser.add_argument("--declare-only", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

    async def go() -> None:
        if args.declare_only:
            connection = await aio_pika.connect_robust(url)
            await declare(await connection.channel(), args.queue)
            await connection.close()
            return
        counts = await run(url, args.queue, args.backfill, args.seconds, Counts())
        print(json.dumps(counts.summary(), indent=2))
        if counts.intervals:
            print(counts.service_level())

    asyncio.run(go())


if __name__ == "__main__":
    main()
