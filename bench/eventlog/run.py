"""Event log benchmark: our PostgreSQL log beside the `eventsourcing` library's PostgreSQL
recorder and bare single-row INSERTs, on the same database in one run.

- command: load a stream, fold it, decide, append one event with the expected version;
  8 concurrent clients; every stream gets 5 commands, so it ends with 5 events. Ours runs
  twice: every load from PostgreSQL, and decided on the stream as this process last wrote it
  (what routing-svc does for its agents: the event and the record that the command is applied
  in one statement, ``append_once``, at the version last seen; the expected version still
  guards it, and a conflict loads the stream and decides again).
- rehydration: read a 5-event stream and fold it; 8 concurrent clients.
- bare INSERT: one row (uuid, jsonb) per statement in autocommit; 8 concurrent clients.

Everything runs on uvloop, the event loop asyncpg is built for; the peer is synchronous
(psycopg 3 with its own pool, one thread per client).

Usage: uv run python bench/eventlog/run.py [--streams 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg
import structlog
import uvloop
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from eventlog import ConcurrencyConflict, NewEvent
from eventlog.model import Handling
from eventlog.postgres import PostgresEventStore

CLIENTS = 8
EVENTS_PER_STREAM = 5
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
TOPIC = "support_contracts.session:ActiveCustomerSelected"


def progress(text: str) -> None:
    print(f"  .. {text}", file=sys.stderr, flush=True)


def decide(state: int, stream: str) -> dict[str, str]:
    """The smallest honest decision: the fold's result shapes the new event."""
    return {"participant_id": f"{stream}-{state}"}


def new_event(data: dict[str, str]) -> NewEvent:
    now, ids = datetime.now(UTC), uuid4()
    return NewEvent("ActiveCustomerSelected", data, uuid4(), now, ids, ids)


async def run_clients(work: list[str], one: Callable[[str], Awaitable[None]]) -> float:
    """Run ``one`` over ``work`` with CLIENTS concurrent clients; return items per second."""
    queue = list(reversed(work))

    async def client() -> None:
        while queue:
            await one(queue.pop())

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return len(work) / (time.perf_counter() - started)


def run_threads(work: list[UUID], one: Callable[[UUID], None]) -> float:
    queue = list(reversed(work))

    def client() -> None:
        while queue:
            try:
                item = queue.pop()
            except IndexError:
                return
            one(item)

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        for future in [pool.submit(client) for _ in range(CLIENTS)]:
            future.result()
    return len(work) / (time.perf_counter() - started)


def command_order(streams: list[str]) -> list[str]:
    """Each stream 5 times, interleaved so that clients work on different streams."""
    return [s for _ in range(EVENTS_PER_STREAM) for s in streams]


async def ours(streams: int, schema: str, *, cached: bool) -> tuple[float, float]:
    store = await PostgresEventStore.connect(
        DATABASE_URL, schema, min_size=CLIENTS, max_size=CLIENTS
    )
    known: dict[str, int] = {}  # the version of each stream as this process last wrote it
    ids = [f"session-{uuid4()}" for _ in range(streams)]

    async def command(stream: str) -> None:
        version = known.get(stream) if cached else None
        if version is not None:
            event = new_event(decide(version + 1, stream))
            try:
                written = await store.append_once(
                    stream, [event], version, Handling("commands", uuid4())
                )
            except ConcurrencyConflict:
                written = None
            if written:
                known[stream] = written[-1].stream_version
                return
        events = await store.read_stream(stream)
        state = len(events)  # the fold
        written = await store.append(stream, [new_event(decide(state, stream))], state - 1)
        known[stream] = written[-1].stream_version

    async def rehydrate(stream: str) -> None:
        events = await store.read_stream(stream)
        assert len(events) == EVENTS_PER_STREAM and all(e.data for e in events)

    commands = await run_clients(command_order(ids), command)
    rehydrations = await run_clients(ids, rehydrate)
    await store.close()
    return commands, rehydrations


def peer(streams: int, schema: str) -> tuple[float, float]:
    url = urlsplit(DATABASE_URL)
    datastore = PostgresDatastore(
        dbname=url.path.lstrip("/"),
        host=url.hostname or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password or "",
        pool_size=CLIENTS,
        schema=schema,
    )
    recorder = PostgresApplicationRecorder(datastore)
    recorder.create_table()
    ids = [uuid4() for _ in range(streams)]

    def command(stream: UUID) -> None:
        events = recorder.select_events(stream)
        state = len(events)
        data = json.dumps(decide(state, str(stream))).encode()
        recorder.insert_events([StoredEvent(stream, state + 1, TOPIC, data)])

    def rehydrate(stream: UUID) -> None:
        events = recorder.select_events(stream)
        assert len(events) == EVENTS_PER_STREAM and all(json.loads(e.state) for e in events)

    order = [s for _ in range(EVENTS_PER_STREAM) for s in ids]
    commands = run_threads(order, command)
    rehydrations = run_threads(ids, rehydrate)
    datastore.close()
    return commands, rehydrations


async def no_reset(_: object) -> None:
    return None


async def bare_inserts(count: int, schema: str) -> float:
    pool = await asyncpg.create_pool(
        DATABASE_URL, min_size=CLIENTS, max_size=CLIENTS, reset=no_reset
    )  # the same pool settings as our log's: no reset round trip on release
    assert pool is not None
    await pool.execute(f"CREATE SCHEMA {schema}")
    await pool.execute(f"CREATE TABLE {schema}.bare (id uuid PRIMARY KEY, data jsonb NOT NULL)")
    sql = f"INSERT INTO {schema}.bare (id, data) VALUES ($1, $2::jsonb)"

    async def insert(_: str) -> None:
        await pool.execute(sql, uuid4(), '{"participant_id": "p"}')

    rate = await run_clients(["x"] * count, insert)
    await pool.close()
    return rate


async def create_schema(schema: str) -> None:
    conn = await asyncpg.connect(DATABASE_URL)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()


async def drop(schemas: list[str]) -> None:
    conn = await asyncpg.connect(DATABASE_URL)
    for schema in schemas:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    await conn.close()


async def measure(streams: int, rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {k: [] for k in ("oc", "or", "cc", "pc", "pr", "bare")}

    async def our_log(schema: str) -> None:
        commands, rehydrations = await ours(streams, schema, cached=False)
        results["oc"].append(commands)
        results["or"].append(rehydrations)

    async def our_log_cached(schema: str) -> None:
        results["cc"].append((await ours(streams, schema, cached=True))[0])

    async def the_peer(schema: str) -> None:
        await create_schema(schema)
        commands, rehydrations = await asyncio.to_thread(peer, streams, schema)
        results["pc"].append(commands)
        results["pr"].append(rehydrations)

    async def bare(schema: str) -> None:
        results["bare"].append(await bare_inserts(streams * EVENTS_PER_STREAM, schema))

    contenders = [
        ("our log", our_log),
        ("our log, decided on the state last written", our_log_cached),
        ("eventsourcing's PostgreSQL recorder", the_peer),
        ("bare INSERTs", bare),
    ]
    for n in range(rounds):
        tag = uuid4().hex[:8]
        schemas = [f"bench_{i}_{tag}" for i in range(len(contenders))]
        order = contenders[n % len(contenders) :] + contenders[: n % len(contenders)]
        try:
            for name, run in order:  # each round starts with another contender
                progress(f"round {n + 1}/{rounds}: {name}")
                await run(schemas[contenders.index((name, run))])
        finally:
            await drop(schemas)
    return results


def table(results: dict[str, list[float]], streams: int, rounds: int) -> str:
    med = {k: statistics.median(v) for k, v in results.items()}
    rows = [
        ("commands/s (load, decide, append)", med["oc"], med["pc"], "5x"),
        ("commands/s, decided on the state last written", med["cc"], med["pc"], "5x"),
        ("rehydrations/s (5-event streams)", med["or"], med["pr"], "2x"),
    ]
    lines = [
        f"event log benchmark: {CLIENTS} clients, {streams} streams x {EVENTS_PER_STREAM} events,"
        f" median of {rounds} rounds, PostgreSQL at {urlsplit(DATABASE_URL).hostname}",
        "",
        "| measure | ours | eventsourcing (PostgreSQL) | ours / peer | target |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, mine, theirs, target in rows:
        lines.append(f"| {name} | {mine:,.0f} | {theirs:,.0f} | {mine / theirs:.1f}x | {target} |")
    lines += [
        "",
        "| measure | ours: commands/s | bare single-row INSERT/s | ours / bare"
        " | per round | target |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, key in (
        ("every load from PostgreSQL", "oc"),
        ("decided on the state last written", "cc"),
    ):
        ratios = [
            100 * mine / bare for mine, bare in zip(results[key], results["bare"], strict=True)
        ]
        lines.append(
            f"| commands, {name} | {med[key]:,.0f} | {med['bare']:,.0f} |"
            f" {100 * med[key] / med['bare']:.0f}% | {min(ratios):.0f}-{max(ratios):.0f}% | 60% |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    results = uvloop.run(measure(args.streams, args.rounds))
    print(table(results, args.streams, args.rounds))


if __name__ == "__main__":
    main()
