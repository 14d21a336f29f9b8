"""What the fault suite checks, from outside the services: an analyst's subscriber on the events
exchange, the services' logs in PostgreSQL, their own log lines, and what the clients saw."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import aio_pika

from eventlog.postgres import PostgresEventStore
from media_relay.journal import publishes as relay_publishes
from support_contracts import Envelope
from support_demo.stack import Service

from .load import Answered


class Subscriber:
    """A durable quorum queue bound to every event, read by a plain connection that is made
    again whenever it is lost: the suite's own reader, independent of the services' code."""

    def __init__(self, url: str, exchange: str, queue: str) -> None:
        self._url, self._exchange, self._queue = url, exchange, queue
        self.received: Counter[str] = Counter()  # event id: how often it arrived
        self.bound = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> Subscriber:
        self._task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.bound.wait(), 30)
        return self

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self._read()
            await asyncio.sleep(0.5)

    async def _read(self) -> None:
        connection = await aio_pika.connect(self._url)
        lost = asyncio.Event()
        connection.close_callbacks.add(lambda *_: lost.set())
        try:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=500)
            exchange = await channel.declare_exchange(
                self._exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = await channel.declare_queue(
                self._queue, durable=True, arguments={"x-queue-type": "quorum"}
            )
            await queue.bind(exchange, "#")
            await queue.consume(self._take)
            self.bound.set()
            await lost.wait()
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _take(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        self.received[json.loads(message.body)["event_id"]] += 1
        await message.ack()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def read_log(url: str, schema: str) -> list[Envelope]:
    store = await PostgresEventStore.connect(url, schema, max_size=2)
    try:
        events, position = [], -1
        while batch := await store.read_all(position, 5000):
            events += batch
            position = batch[-1].global_position
        return events
    finally:
        await store.close()


def _session(event: Envelope) -> str:
    return event.stream_id.removeprefix("session-")


@dataclass
class Logs:
    session: list[Envelope]
    invite: list[Envelope]
    routing: list[Envelope]
    relay: list[Envelope]

    @classmethod
    async def read(cls, url: str, schemas: dict[str, str]) -> Logs:
        names = ("session_svc", "invite_svc", "routing_svc", "media_relay")
        return cls(*[await read_log(url, schemas[name]) for name in names])

    def of(self, kind: str) -> list[Envelope]:
        return [
            e for log in (self.session, self.invite, self.routing) for e in log if e.type == kind
        ]

    def published(self) -> list[Envelope]:
        """What the outbox relays are to publish: every log's own events."""
        return self.session + self.invite + self.routing + list(filter(relay_publishes, self.relay))


def lost(logs: Logs, done: Answered) -> dict[str, set[str]]:
    """Answers of success whose events are not in the log, by what was answered."""
    recorded = {
        "started": {_session(e) for e in logs.of("SessionStarted")},
        "invited": {str(e.data["invitation_id"]) for e in logs.of("InvitationIssued")},
        "joined": {str(e.data["participant_id"]) for e in logs.of("CustomerJoined")},
        "handed": {_session(e) for e in logs.of("HandedToQueue")},
        "accepted": {str(e.data["session_id"]) for e in logs.of("OfferAccepted")},
        "ended": {_session(e) for e in logs.of("SessionEnded")},
    }
    answered: dict[str, set[str]] = {
        "started": set(done.started), "invited": done.invited, "joined": done.joined,
        "handed": done.handed, "accepted": done.accepted, "ended": done.ended,
    }  # fmt: skip
    return {
        what: answered[what] - recorded[what]
        for what in recorded
        if answered[what] - recorded[what]
    }


def applied_twice(logs: Logs) -> int:
    """Events a command (or an incoming event) caused twice: the same type with the same data
    in the same stream, caused by the same message (a redelivery applied again)."""
    seen = Counter(
        (e.stream_id, e.causation_id, e.type, json.dumps(e.data, sort_keys=True))
        for e in logs.session + logs.invite + logs.routing
        if e.type != "ConsoleSeen"
    )
    return sum(n - 1 for n in seen.values() if n > 1)


def undelivered(logs: Logs, subscriber: Subscriber) -> int:
    return sum(1 for e in logs.published() if str(e.event_id) not in subscriber.received)


def over_capacity(logs: Logs, capacity: int) -> tuple[int, int]:
    """Times an agent held more sessions than its capacity; slots freed that were not held."""
    holding: dict[str, set[str]] = {}
    over = freed_twice = 0
    for e in logs.routing:
        agent, session = str(e.data.get("agent_id")), str(e.data.get("session_id"))
        if e.type == "AgentSessionStarted":
            holding.setdefault(agent, set()).add(session)
            over += len(holding[agent]) > capacity
        elif e.type == "AgentSessionFinished":
            if session not in holding.get(agent, set()):
                freed_twice += 1
            holding.get(agent, set()).discard(session)
    return over, freed_twice


def mail(logs: Logs, done: Answered, messages: list[EmailMessage]) -> dict[str, int]:
    """I3, S10: each e-mail invitation sent once (its Message-ID names it), unless its session
    ended (and revoked it) before it could go. A second copy is "resent in doubt", not "sent
    twice", only where the log shows an attempt with no outcome before it: the server took the
    e-mail and the sender was killed before it could record so (no one can know then)."""
    sent = Counter(str(m["Message-ID"]).strip("<>").split("@")[0] for m in messages)
    revoked = {str(e.data["invitation_id"]) for e in logs.of("InvitationRevoked")}
    attempts = Counter(str(e.data["invitation_id"]) for e in logs.of("InvitationTokenMinted"))
    outcomes = Counter(
        str(e.data["invitation_id"])
        for kind in ("InvitationSent", "InvitationDeliveryFailed")
        for e in logs.of(kind)
    )
    in_doubt = {i: attempts[i] - outcomes[i] for i in sent}
    return {
        "e-mails answered": len(done.invited),
        "sent twice": sum(1 for i, n in sent.items() if n - 1 > in_doubt[i]),
        "resent in doubt": sum(1 for i, n in sent.items() if 0 < n - 1 <= in_doubt[i]),
        "revoked unsent": len(done.invited & revoked - set(sent)),
        "never sent": len(done.invited - revoked - set(sent)),
    }


def stuck(logs: Logs, done: Answered) -> set[str]:
    """Sessions the load started that have not ended."""
    ended = {_session(e) for e in logs.of("SessionEnded")}
    return set(done.started) - ended


def story_of(logs: Logs, done: Answered, session: str) -> list[str]:
    """What the logs and the load know of one session, for a failure's message."""
    streams = {f"session-{session}", f"routing-{session}"}
    known = [
        f"{e.occurred_at:%H:%M:%S.%f} {e.stream_id.split('-')[0]} {e.type}"
        f" {json.dumps(e.data)[:160]}"
        for e in sorted(logs.session + logs.routing, key=lambda e: e.occurred_at)
        if e.stream_id in streams
    ]
    seen = [what for what in ("handed", "accepted", "ended") if session in getattr(done, what)]
    return [f"the load saw it {', '.join(seen) or 'started only'}", *known]


def _at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(entry["timestamp"]))


@dataclass
class Tenure:
    lock: str
    holder: int  # the process
    began: datetime
    ended: datetime | None = field(default=None)


def leaders_at_once(services: list[Service], killed_at: dict[int, datetime]) -> int:
    """Pairs of processes that held one lock at the same time, from their ``eventlog.leading``
    and ``eventlog.lead_ended`` lines; a killed process held its locks until it died."""
    tenures: list[Tenure] = []
    for service in services:
        pid = service.process.pid
        open_: dict[str, Tenure] = {}
        for entry in service.logged:
            if entry.get("event") == "eventlog.leading":
                open_[entry["lock"]] = Tenure(entry["lock"], pid, _at(entry))
            elif entry.get("event") == "eventlog.lead_ended" and entry["lock"] in open_:
                tenure = open_.pop(entry["lock"])
                tenure.ended = _at(entry)
                tenures.append(tenure)
        for tenure in open_.values():
            tenure.ended = killed_at.get(pid)  # None: it still leads
            tenures.append(tenure)
    overlapping = 0
    for n, a in enumerate(tenures):
        for b in tenures[n + 1 :]:
            if a.lock == b.lock and a.holder != b.holder and _overlap(a, b):
                overlapping += 1
    return overlapping


def _overlap(a: Tenure, b: Tenure) -> bool:
    far = datetime.max.replace(tzinfo=a.began.tzinfo)
    return a.began < (b.ended or far) and b.began < (a.ended or far)
