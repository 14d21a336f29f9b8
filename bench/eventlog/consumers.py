"""Consumer benchmark (issue 19): what an event costs a service's inbox and RabbitMQ, each way
side by side in one run.

- an event delivered alone, kept with the inbox's record: ``record_in_append`` (the relay's
  copy of session events: one statement on the store, no transaction) beside the inbox's
  general path (BEGIN, the record, the append, COMMIT), on PostgreSQL, one at a time;
- an event that needs nothing of its consumer (routing-svc told of the end of a session it
  never routed), delivered alone: looked at first (``look_first``: one read, no transaction,
  no record) beside the inbox's general path (BEGIN, the record, the read, COMMIT);
- a backlog drained from a quorum queue by ``RabbitEventConsumer`` on an in-memory log: in
  batches of up to 50 (one ack a batch) beside batches of 1 (one ack an event), with
  RabbitMQ's CPU an event (a quorum queue logs every settlement).

Each way runs ``--rounds`` times, alternating; the table gives the median.

Usage: uv run python bench/eventlog/consumers.py [--events 2000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "libs" / "eventlog" / "tests"))

import common
from factories import new_event

from eventlog import NO_STREAM, EventStore, Inbox, InMemoryEventStore, StreamState, Transaction
from eventlog.postgres import PostgresEventStore
from eventlog.rabbit import RabbitEventConsumer, RabbitPublisher
from support_contracts import Envelope


async def _copy(envelope: Envelope, tx: Transaction) -> None:
    await tx.append(f"{envelope.stream_id}-copy", [new_event("x")], StreamState.ANY)


async def _end_if_there(envelope: Envelope, tx: Transaction) -> None:
    if await tx.read_stream(f"{envelope.stream_id}-task"):
        await tx.append(f"{envelope.stream_id}-task", [new_event("x")], StreamState.ANY)


async def delivered_alone(events: int, inbox_of: Callable[[EventStore], Inbox]) -> dict[str, float]:
    """µs an event: wall time, this process's CPU, PostgreSQL's CPU."""
    schema = f"bench_inbox_{uuid.uuid4().hex[:8]}"
    store = await PostgresEventStore.connect(common.DATABASE_URL, schema)
    try:
        recorded = [
            (await store.append(f"session-{n}", [new_event(str(n))], NO_STREAM))[0]
            for n in range(events)
        ]
        inbox = inbox_of(store)
        meter = common.CpuMeter({})
        meter.start()
        began = time.perf_counter()
        for envelope in recorded:
            assert (await inbox.deliver(envelope)).handled
        wall = time.perf_counter() - began
        spent = meter.stop()
    finally:
        await store.close()
        await common.cleanup(schema, [], "unused")
    return {
        "wall": 1e6 * wall / events,
        "client": 1e6 * spent["bench client"] / events,
        "PostgreSQL": 1e6 * spent["PostgreSQL"] / events,
    }


async def drained(events: int, batch: int) -> dict[str, float]:
    """µs an event to drain a backlog: wall time, this process's CPU, RabbitMQ's CPU."""
    names = common.Names(f"consumers-{uuid.uuid4().hex[:8]}")
    queue, store = names.queue("events"), InMemoryEventStore()
    handled, all_handled = 0, asyncio.Event()

    async def count(envelope: Envelope, tx: Transaction) -> None:
        nonlocal handled
        handled += 1
        if handled == events:
            all_handled.set()

    inbox = Inbox(store, "bench", count)

    def consumer() -> RabbitEventConsumer:
        return RabbitEventConsumer(
            common.AMQP_URL, queue, ["#"], inbox, exchange=names.exchange, batch=batch
        )

    try:
        first = consumer()
        await first.start()  # the queue, bound; then the backlog waits in it
        await first.stop()
        recorded = [
            (await store.append(f"session-{n}", [new_event(str(n))], NO_STREAM))[0]
            for n in range(events)
        ]
        publisher = await RabbitPublisher(common.AMQP_URL, names.exchange).connect()
        await publisher.publish(recorded)
        await publisher.close()
        draining = consumer()
        meter = common.CpuMeter({})
        meter.start()
        began = time.perf_counter()
        await draining.start()
        await asyncio.wait_for(all_handled.wait(), 300)
        wall = time.perf_counter() - began
        await asyncio.sleep(0.2)  # the last acks reach the broker
        spent = meter.stop()
        await draining.stop()
    finally:
        await common.drop_run([], names)
    return {
        "wall": 1e6 * wall / events,
        "client": 1e6 * spent["bench client"] / events,
        "RabbitMQ": 1e6 * spent["RabbitMQ"] / events,
    }


def _row(name: str, runs: list[dict[str, float]], server: str) -> str:
    cells = [statistics.median(r[key] for r in runs) for key in ("wall", "client", server)]
    return f"| {name} | " + " | ".join(f"{c:,.0f}" for c in cells) + " |"


INBOXES: dict[str, Callable[[EventStore], Inbox]] = {
    "in append": lambda store: Inbox(store, "bench", _copy, record_in_append=True),
    "copied in a transaction": lambda store: Inbox(store, "bench", _copy),
    "looked at first": lambda store: Inbox(
        store, "bench", _end_if_there, look_first=frozenset({"ActiveCustomerSelected"})
    ),
    "nothing, in a transaction": lambda store: Inbox(store, "bench", _end_if_there),
}


async def main(events: int, rounds: int) -> None:
    alone: dict[str, list[dict[str, float]]] = {way: [] for way in INBOXES}
    backlog: dict[int, list[dict[str, float]]] = {50: [], 1: []}
    for n in range(1, rounds + 1):
        for way, inbox_of in INBOXES.items():
            common.progress(f"round {n}/{rounds}: delivered alone, {way}")
            alone[way].append(await delivered_alone(events, inbox_of))
        for batch in (50, 1):
            common.progress(f"round {n}/{rounds}: a backlog drained, batches of {batch}")
            backlog[batch].append(await drained(events * 2, batch))
    print(f"consumer benchmark: {events} events delivered alone, a backlog of {events * 2}; "
          f"median of {rounds} rounds, PostgreSQL and RabbitMQ on this machine\n")  # fmt: skip
    print("| an event delivered alone (PostgreSQL) | µs an event | client CPU µs | "
          "PostgreSQL CPU µs |")  # fmt: skip
    print("|---|---:|---:|---:|")
    print(
        _row(
            "kept, record_in_append: one statement, no transaction",
            alone["in append"],
            "PostgreSQL",
        )
    )
    print(
        _row(
            "kept, in a transaction: BEGIN, record, append, COMMIT",
            alone["copied in a transaction"],
            "PostgreSQL",
        )
    )
    print(
        _row("needing nothing, looked at first: one read", alone["looked at first"], "PostgreSQL")
    )
    print(_row("needing nothing, in a transaction: BEGIN, record, read, COMMIT",
               alone["nothing, in a transaction"], "PostgreSQL"))  # fmt: skip
    print()
    print("| a backlog drained (RabbitMQ quorum queue) | µs an event | client CPU µs | "
          "RabbitMQ CPU µs |")  # fmt: skip
    print("|---|---:|---:|---:|")
    print(_row("batches of up to 50, one ack a batch", backlog[50], "RabbitMQ"))
    print(_row("batches of 1, one ack an event", backlog[1], "RabbitMQ"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    uvloop.run(main(args.events, args.rounds))
