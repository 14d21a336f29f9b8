"""The sessions waiting in a queue in the order they are offered (R5, R10): by priority, 1
first, then by age; a session's priority rises one step every ``aging`` seconds it waits, never
past 1, so nothing starves.

Kept as one list for each base priority, oldest first. Within one list an older session has
waited at least as long as a younger one, so it has risen at least as far: each list is in offer
order at any time, and the queue's order is their merge, taken when asked (a step of it looks
at the head of each of at most nine lists). Nothing is rescanned or re-sorted as time passes,
and a session's place is a binary search in each list."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import datetime

from routing_svc.view_parts import Key, Ordered

DEFAULT_PRIORITY = 5


class Waiting:
    def __init__(self, aging_seconds: float | None = None) -> None:
        self.aging_seconds = aging_seconds  # None: priorities do not rise
        self._lists: dict[int, Ordered] = {}
        self._priority: dict[Key, int] = {}

    def add(self, key: Key, priority: int = DEFAULT_PRIORITY) -> None:
        if self._priority.get(key) == priority:
            return
        self.discard(key)
        self._priority[key] = priority
        self._lists.setdefault(priority, Ordered()).add(key)

    def discard(self, key: Key) -> None:
        priority = self._priority.pop(key, None)
        if priority is not None:
            self._lists[priority].discard(key)

    def __len__(self) -> int:
        return len(self._priority)

    def __contains__(self, key: object) -> bool:
        return key in self._priority

    def __iter__(self) -> Iterator[Key]:
        """Every waiting session, in no particular order."""
        return iter(list(self._priority))

    def oldest(self) -> datetime | None:
        """When the longest-waiting session was queued."""
        heads = [ordered.keys[0][0] for ordered in self._lists.values() if ordered.keys]
        return min(heads) if heads else None

    def priority(self, key: Key, now: datetime) -> int:
        """The session's priority now: its own, risen one step each ``aging_seconds`` waited."""
        return self._risen(self._priority[key], key[0], now)

    def _risen(self, priority: int, queued_at: datetime, now: datetime) -> int:
        if not self.aging_seconds:
            return priority
        steps = int((now - queued_at).total_seconds() // self.aging_seconds)
        return max(1, priority - max(0, steps))

    def _place(self, key: Key, priority: int, now: datetime) -> tuple[int, Key]:
        return self._risen(priority, key[0], now), key

    def walk(self, now: datetime) -> Iterator[Key]:
        """Every waiting session in offer order as of ``now``. The caller may take the session
        it was given out of the queue before asking for the next."""
        at: dict[int, int] = {}
        while True:
            best: tuple[tuple[int, Key], int] | None = None
            for priority, ordered in list(self._lists.items()):
                i = at.get(priority, 0)
                if i < len(ordered.keys):
                    place = self._place(ordered.keys[i], priority, now)
                    if best is None or place < best[0]:
                        best = (place, priority)
            if best is None:
                return
            (_, key), priority = best
            yield key
            keys, i = self._lists[priority].keys, at.get(priority, 0)
            if i < len(keys) and keys[i] == key:  # still there: step past it
                at[priority] = i + 1

    def rank(self, key: Key, now: datetime) -> int:
        """How many sessions are offered before this one (0: it is next)."""
        target = self._place(key, self._priority[key], now)
        before = 0
        for priority, ordered in self._lists.items():

            def place(k: Key, priority: int = priority) -> tuple[int, Key]:
                return self._place(k, priority, now)

            before += bisect.bisect_left(ordered.keys, target, key=place)
        return before
