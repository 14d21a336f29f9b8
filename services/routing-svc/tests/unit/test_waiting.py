"""R10: the waiting order by priority, then age, with priorities rising as sessions wait; the
merge of per-priority lists against a plain sort of every session, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from routing_svc.view_parts import Key
from routing_svc.waiting import Waiting

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def key(seconds: int, n: int) -> Key:
    return (T0 + timedelta(seconds=seconds), n, UUID(int=n))


def plainly(sessions: dict[Key, int], aging: int | None, now: datetime) -> list[Key]:
    """R10 as it reads: each session's priority now (its own, one step higher each ``aging``
    seconds waited, never past 1), then the oldest first."""

    def now_priority(k: Key) -> int:
        if not aging:
            return sessions[k]
        return max(1, sessions[k] - int((now - k[0]).total_seconds() // aging))

    return sorted(sessions, key=lambda k: (now_priority(k), k))


def test_r10_sessions_are_offered_by_priority_then_by_age() -> None:
    waiting = Waiting()
    old_low, new_high, newer_high = key(0, 1), key(10, 2), key(20, 3)
    waiting.add(old_low, 7)
    waiting.add(newer_high, 2)
    waiting.add(new_high, 2)
    assert list(waiting.walk(T0 + timedelta(hours=5))) == [new_high, newer_high, old_low]
    assert waiting.rank(old_low, T0) == 2 and waiting.rank(new_high, T0) == 0


def test_r10_priority_rises_as_a_session_waits_so_nothing_starves() -> None:
    waiting = Waiting(aging_seconds=60)
    low, high = key(0, 1), key(100, 2)  # priority 9 queued at 0 s; priority 5 at 100 s
    waiting.add(low, 9)
    waiting.add(high, 5)
    assert list(waiting.walk(T0 + timedelta(seconds=100))) == [high, low]  # 9-1=8 against 5
    at_300 = T0 + timedelta(seconds=300)  # low: 9-5=4; high: 5-3=2
    assert list(waiting.walk(at_300)) == [high, low]
    at_600 = T0 + timedelta(seconds=600)  # low: 9-10 -> 1; high: 5-8 -> 1: the older first
    assert (waiting.priority(low, at_600), waiting.priority(high, at_600)) == (1, 1)
    assert list(waiting.walk(at_600)) == [low, high]
    assert waiting.rank(low, at_600) == 0 and waiting.rank(high, at_600) == 1


def test_r10_a_session_taken_out_while_walking_does_not_disturb_the_walk() -> None:
    waiting = Waiting()
    keys = [key(n, n) for n in range(6)]
    for n, k in enumerate(keys):
        waiting.add(k, 1 + n % 3)
    walked = []
    for k in waiting.walk(T0):
        walked.append(k)
        if k[1] % 2 == 0:
            waiting.discard(k)  # offered: no longer wanting offers
    assert walked == plainly({k: 1 + n % 3 for n, k in enumerate(keys)}, None, T0)
    assert len(waiting) == 3 and keys[1] in waiting and keys[0] not in waiting


@settings(max_examples=300, deadline=None)
@given(
    sessions=st.lists(
        st.tuples(st.integers(0, 5_000), st.integers(1, 9)), max_size=60, unique_by=lambda s: s[0]
    ),
    aging=st.one_of(st.none(), st.integers(1, 900)),
    later=st.integers(0, 20_000),
    gone=st.sets(st.integers(0, 59)),
)
def test_r10_the_merged_order_and_places_are_those_of_a_plain_sort(
    sessions: list[tuple[int, int]], aging: int | None, later: int, gone: set[int]
) -> None:
    waiting = Waiting(aging_seconds=aging)
    kept: dict[Key, int] = {}
    for n, (queued, priority) in enumerate(sessions):
        waiting.add(key(queued, n), priority)
        kept[key(queued, n)] = priority
    for n, (queued, _) in enumerate(sessions):
        if n in gone:
            waiting.discard(key(queued, n))
            del kept[key(queued, n)]
    now = T0 + timedelta(seconds=5_000 + later)  # after every session was queued
    expected = plainly(kept, aging, now)
    assert list(waiting.walk(now)) == expected
    assert [waiting.rank(k, now) for k in expected] == list(range(len(expected)))
