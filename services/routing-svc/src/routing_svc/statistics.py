"""R16: each queue's figures per 15-minute interval, folded from routing's log with the rest of
the view (so rebuilt from the log on start, and kept in its snapshot): sessions offered to the
queue (queued), answered (taken by an agent; in time, within the queue's service level), and
abandoned (ended while waiting); the wait of those answered and the handling time of those
finished. The leading router publishes each interval once it has ended (``QueueIntervalEnded``),
once: its stream is the queue's and the interval's, appended only where there is none."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from routing_svc.domain.state import Task
from support_contracts import Event
from support_contracts.routing import (
    OfferAccepted,
    QueueDefinition,
    QueueIntervalEnded,
    TaskAbandoned,
    TaskQueued,
)

INTERVAL = timedelta(minutes=15)
KEPT = 96  # intervals each queue keeps: a day
DEFAULT_SERVICE_LEVEL_SECONDS = 20


def interval_of(at: datetime) -> datetime:
    """The start of the 15-minute interval ``at`` falls in (UTC)."""
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def service_level_seconds(definition: QueueDefinition | None) -> int:
    if definition is None or definition.service_level_seconds is None:
        return DEFAULT_SERVICE_LEVEL_SECONDS
    return definition.service_level_seconds


@dataclass
class Counts:
    offered: int = 0
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    waited: float = 0.0  # seconds, over those answered
    finished: int = 0
    handled: float = 0.0  # seconds, over those finished


class Statistics:
    def __init__(self) -> None:
        self.counts: dict[UUID, dict[datetime, Counts]] = {}
        self.published: set[tuple[UUID, datetime]] = set()
        self._unpublished: dict[tuple[UUID, datetime], None] = {}  # by start: what ``due`` looks at

    def _at(self, queue_id: UUID, at: datetime) -> Counts:
        kept = self.counts.setdefault(queue_id, {})
        start = interval_of(at)
        counts = kept.get(start)
        if counts is None:
            counts = kept[start] = Counts()
            if (queue_id, start) not in self.published:
                self._unpublished[queue_id, start] = None
            while len(kept) > KEPT:
                oldest = min(kept)
                del kept[oldest]
                self.published.discard((queue_id, oldest))
                self._unpublished.pop((queue_id, oldest), None)
        return counts

    # --- folding ----------------------------------------------------------------------------

    def count(
        self, event: Event, before: Task | None, at: datetime, queues: dict[UUID, QueueDefinition]
    ) -> None:
        """What the queue's figures count of a session's routing event (``before``: the
        session's task as it was)."""
        match event:
            case TaskQueued(queue_id=UUID() as queue_id):
                self._at(queue_id, at).offered += 1
            case OfferAccepted() if before and before.queue_id and before.queued_at:
                counts = self._at(before.queue_id, at)
                waited = max(0.0, (at - before.queued_at).total_seconds())
                counts.answered += 1
                counts.waited += waited
                in_time = service_level_seconds(queues.get(before.queue_id))
                counts.answered_in_time += waited <= in_time
            case TaskAbandoned():
                self._at(event.queue_id, at).abandoned += 1

    def finished(self, queue_id: UUID, since: datetime, at: datetime) -> None:
        counts = self._at(queue_id, at)
        counts.finished += 1
        counts.handled += max(0.0, (at - since).total_seconds())

    def ended(self, queue_id: UUID, starts: datetime) -> None:
        """The interval is published (its event folded, or appended by this router)."""
        self.published.add((queue_id, interval_of(starts)))
        self._unpublished.pop((queue_id, interval_of(starts)), None)

    # --- what comes of it -------------------------------------------------------------------

    def figures(self, queue_id: UUID, starts: datetime, in_time: int) -> dict[str, Any]:
        """The interval's figures, as ``QueueIntervalEnded`` and the stats query give them."""
        c = self.counts.get(queue_id, {}).get(starts) or Counts()
        settled = c.answered + c.abandoned
        return {
            "starts": starts,
            "ends": starts + INTERVAL,
            "offered": c.offered,
            "answered": c.answered,
            "answered_in_time": c.answered_in_time,
            "abandoned": c.abandoned,
            "service_level_seconds": in_time,
            "service_level": c.answered_in_time / settled if settled else None,
            "average_wait_seconds": c.waited / c.answered if c.answered else None,
            "average_handle_seconds": c.handled / c.finished if c.finished else None,
        }

    def due(self, now: datetime, queues: dict[UUID, QueueDefinition]) -> list[QueueIntervalEnded]:
        """Intervals that have ended, with something in them, not yet published (only those
        not published are looked at: the router asks at every turn)."""
        ended = [(q, s) for q, s in self._unpublished if s + INTERVAL <= now]
        return [
            QueueIntervalEnded(
                queue_id=queue_id,
                **self.figures(queue_id, starts, service_level_seconds(queues.get(queue_id))),
            )
            for queue_id, starts in sorted(ended, key=lambda k: (k[1], str(k[0])))
        ]

    # --- snapshots --------------------------------------------------------------------------

    def dump(self) -> dict[str, Any]:
        return {
            "counts": {
                str(q): {s.isoformat(): asdict(c) for s, c in kept.items()}
                for q, kept in self.counts.items()
            },
            "published": [[str(q), s.isoformat()] for q, s in sorted(self.published)],
        }

    def restore(self, saved: dict[str, Any]) -> None:
        self.counts = {
            UUID(q): {datetime.fromisoformat(s): Counts(**c) for s, c in kept.items()}
            for q, kept in saved["counts"].items()
        }
        self.published = {(UUID(q), datetime.fromisoformat(s)) for q, s in saved["published"]}
        self._unpublished = {
            (q, s): None for q, kept in self.counts.items() for s in kept
            if (q, s) not in self.published
        }  # fmt: skip
