"""``make demo``: what the system does so far, step by step, with the events each step caused.

Built so far: the foundation every service stands on (the event log, the outbox relay to
``support.events``, the inbox). The services that decide a session's events arrive with
their own issues; until then this demo writes a support session's events straight to the log
and shows everything that happens to them after that.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import structlog
import uvloop

from eventlog import ConcurrencyConflict, Inbox, NewEvent, OutboxRelay, Transaction
from support_contracts import EXCHANGE, Envelope, Event
from support_contracts.session import (
    ActivityEnded,
    ActivityEndReason,
    ActivityStarted,
    AssistantJoined,
    ControlTransferred,
    CustomerJoined,
    EndReason,
    SessionEnded,
    SessionStarted,
)
from support_contracts.vocabulary import ActivityKind, format_session_number
from support_demo.wiring import Wiring, choose

STEPS = 5


def step(number: int, text: str) -> None:
    print(f"\n[{number}/{STEPS}] {text}", flush=True)


def show(event: Envelope) -> None:
    data = ", ".join(f"{k}={v}" for k, v in event.data.items())
    print(f"      {event.routing_key:<32} v{event.stream_version}  {data}", flush=True)


def session_story(session_id: UUID) -> list[Event]:
    number = "123456789"
    return [
        SessionStarted(
            session_id=session_id,
            session_number=number,
            csr_id="csr-alice",
            csr_name="Alice",
            email_invite=True,
        ),
        CustomerJoined(participant_id="cust-bob", name="Bob", via="session_number"),
        ActivityStarted(
            activity_id=uuid4(), kind=ActivityKind.DESKTOP_SHARING, started_by="csr-alice"
        ),
        AssistantJoined(csr_id="csr-carol", name="Carol", via="session_number"),
        ControlTransferred(from_csr="csr-alice", to_csr="csr-carol", voice_continues=False),
        SessionEnded(reason=EndReason.ENDED_BY_CONTROLLER, ended_by="csr-carol"),
    ]


def recorded(event: Event, correlation_id: UUID) -> NewEvent:
    return NewEvent.from_event(
        event,
        occurred_at=datetime.now(UTC),
        correlation_id=correlation_id,
        causation_id=correlation_id,
    )


async def record_session(wiring: Wiring, stream: str) -> list[Envelope]:
    correlation_id = uuid4()
    written: list[Envelope] = []
    for event in session_story(UUID(stream.removeprefix("session-"))):
        batch = [recorded(event, correlation_id)]
        if isinstance(event, ControlTransferred):  # S8: the sharing ends with the transfer
            sharing = next(e for e in written if e.type == "ActivityStarted")
            ended = ActivityEnded(
                activity_id=sharing.data["activity_id"],
                kind=ActivityKind.DESKTOP_SHARING,
                reason=ActivityEndReason.CONTROL_TRANSFERRED,
            )
            batch.append(recorded(ended, correlation_id))
        written += await wiring.store.append(stream, batch, len(written) - 1)
    return written


async def main() -> int:
    async with choose() as wiring:
        print(f"support-center demo, {wiring.description}")
        print("The services that decide these events come with their own issues; the events")
        print("below are written straight to the log to show the foundation under them.")
        stream = f"session-{uuid4()}"

        step(1, f"A support session ({format_session_number('123456789')}) is recorded")
        for event in await record_session(wiring, stream):
            show(event)

        step(2, "A second writer with a stale view is refused, and nothing is written")
        try:
            stale = recorded(SessionEnded(reason=EndReason.CONSOLE_CLOSED), uuid4())
            await wiring.store.append(stream, [stale], 2)
        except ConcurrencyConflict as conflict:
            print(f"      refused: {conflict}")
        print(f"      the stream still has {len(await wiring.store.read_stream(stream))} events")

        step(3, "An analytics consumer subscribes; the outbox relay publishes the log")
        counts: Counter[str] = Counter()
        everything = await wiring.store.read_all()

        async def count(event: Envelope, tx: Transaction) -> None:
            counts[event.type] += 1
            show(event)

        queue = f"demo-analytics-{wiring.run_id}"
        await wiring.subscriptions.start(queue, ["session.#"], Inbox(wiring.store, queue, count))
        relay = OutboxRelay(wiring.store, wiring.publisher, idle_seconds=0.2)
        relaying = asyncio.create_task(relay.run())
        await wait_until(lambda: sum(counts.values()) == len(everything), "relayed events")

        step(4, "The broker delivers one event twice; the inbox handles it once")
        await wiring.publisher.publish([everything[0]])
        next_id = uuid4()
        next_session = SessionStarted(
            session_id=next_id,
            session_number="987654321",
            csr_id="csr-dave",
            csr_name="Dave",
            email_invite=False,
        )
        await wiring.store.append(f"session-{next_id}", [recorded(next_session, uuid4())], -1)
        await wait_until(lambda: counts["SessionStarted"] == 2, "the event after the duplicate")
        print("      the first session's SessionStarted was delivered twice and counted once;")
        print(f"      sessions counted: {counts['SessionStarted']} (the second is Dave's)")

        step(5, "A new analytics consumer backfills from the start of the log, in order")
        for event in await wiring.store.read_all(after_position=-1):
            show(event)
        relaying.cancel()
        print(f"\ndone: {relay.published} events published to {EXCHANGE}; counted {dict(counts)}")
    return 0


async def wait_until(check: Callable[[], bool], what: str, within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise SystemExit(f"demo: {what} did not arrive within {within} s")
        await asyncio.sleep(0.01)


def run() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    sys.exit(uvloop.run(main()))


if __name__ == "__main__":
    run()
