"""session-svc's commands on PostgreSQL alone (issue 19): 16 csrs at a time, each in a loop of
start a session, a customer joins it by number, end it, through session-svc's handlers on its
log, with no broker. Each command decided without a transaction (``EventStore.decision``: the
read ahead, then one write that checks what was read and records the command) beside the same
commands in a REPEATABLE READ transaction (BEGIN, the read ahead with the record, the write,
COMMIT), in alternating rounds; the table gives the median of each way's rounds: µs a command
of wall time, of this process's CPU and of PostgreSQL's (NOTIFYs included).

Usage: uv run python bench/session/decisions.py [--cycles 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from pathlib import Path

import uvloop

from eventlog.postgres import PostgresEventStore
from session_svc.handlers import HANDLERS
from session_svc.writing import SessionLog
from support_contracts import Command
from support_contracts.session import EndSession, JoinAsCustomer, StartSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import common

CSRS = 16
WAYS = ("no transaction", "in a transaction")


async def _command(h: SessionLog, cmd: Command) -> dict[str, object]:
    reply = await HANDLERS[type(cmd)](h, cmd)
    return reply.model_dump(mode="json")  # as the command door puts it on the wire


async def _cycles(h: SessionLog, csr: str, cycles: int) -> None:
    for _ in range(cycles):
        started = await _command(h, StartSession.new(actor_id=csr, csr_id=csr, csr_name=csr))
        session = started["session"]
        assert isinstance(session, dict)
        number = session["session_number"]
        await _command(h, JoinAsCustomer.new(session_number=number, name="Carol"))
        await _command(h, EndSession.new(actor_id=csr, session_id=session["session_id"]))


async def measured(way: str, cycles: int) -> dict[str, float]:
    """µs a command: wall time, this process's CPU, PostgreSQL's CPU."""
    schema = f"bench_decisions_{uuid.uuid4().hex[:8]}"
    store = await PostgresEventStore.connect(common.DATABASE_URL, schema, max_size=CSRS)
    if way == "in a transaction":  # the decisions as they were: each in a transaction
        store.decision = store.transaction  # type: ignore[method-assign]
    h = SessionLog(store)
    csrs = [f"csr-{n}" for n in range(CSRS)]
    try:
        await asyncio.gather(*(_cycles(h, csr, 2) for csr in csrs))  # statements prepared
        meter = common.CpuMeter({})
        meter.start()
        began = time.perf_counter()
        await asyncio.gather(*(_cycles(h, csr, cycles) for csr in csrs))
        wall = time.perf_counter() - began
        spent = meter.stop()
    finally:
        await store.close()
        await common.cleanup(schema, [], "unused")
    commands = 3 * cycles * CSRS
    return {
        "wall": 1e6 * wall / commands,
        "client": 1e6 * spent["bench client"] / commands,
        "PostgreSQL": 1e6 * spent["PostgreSQL"] / commands,
    }


async def main(cycles: int, rounds: int) -> None:
    runs: dict[str, list[dict[str, float]]] = {way: [] for way in WAYS}
    for n in range(1, rounds + 1):
        for way in WAYS if n % 2 else reversed(WAYS):  # each way first in every other round
            common.progress(f"round {n}/{rounds}: {way}")
            runs[way].append(await measured(way, cycles))
    print(f"session-svc's decisions: {CSRS} csrs, {cycles} starts, joins and ends each; median "
          f"of {rounds} rounds, PostgreSQL on this machine\n")  # fmt: skip
    print("| a command (start, join by number, end) | µs a command | session-svc CPU µs | "
          "PostgreSQL CPU µs |")  # fmt: skip
    print("|---|---:|---:|---:|")
    for way in WAYS:
        cells = [statistics.median(r[key] for r in runs[way]) for key in runs[way][0]]
        print(f"| {way} | " + " | ".join(f"{c:,.0f}" for c in cells) + " |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    uvloop.run(main(args.cycles, args.rounds))
