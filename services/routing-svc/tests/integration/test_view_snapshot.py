"""Issue 13 (scale): routing's view is snapshotted, and a router started anew restores the
latest snapshot and folds only what came after: the view it then has is the one folded from
the whole log, and it decides the same (on the in-memory log and on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from eventlog import EventStore
from routing_svc.planning import plan
from routing_svc.queries import standing_of
from routing_svc.router import Router
from routing_svc.view import RoutingView
from support_contracts.vocabulary import AgentStatus, RoutingPolicy

from .world import World

pytestmark = pytest.mark.integration


def _router(world: World, snapshot_every: int = 10_000) -> Router:
    view = RoutingView(named_offer_timeout=timedelta(seconds=60))
    return Router(world.handlers, view, snapshot_every=snapshot_every)


def _same(a: RoutingView, b: RoutingView) -> None:
    assert a.position == b.position
    assert a.queues == b.queues and a.agents == b.agents and a.tasks == b.tasks
    assert a.keys == b.keys and a.requests == b.requests and a.holding == b.holding
    assert {q: list(h) for q, h in a.handling.items()} == {
        q: list(h) for q, h in b.handling.items() if h
    }
    for session_id in a.tasks:
        now = datetime.now(UTC)
        assert standing_of(a, session_id, now) == standing_of(b, session_id, now)
    for queue_id, pool in a.pools.items():
        assert pool.agents == b.pools[queue_id].agents
    assert a.timers.next() == b.timers.next()
    assert a.statistics.counts == b.statistics.counts  # R16
    assert a.statistics.published == b.statistics.published


def _plan(view: RoutingView, world: World) -> list[tuple[UUID, list[str]]]:
    count = iter(range(10**6))
    made = plan(view, now=world.clock.now(), new_id=lambda: UUID(int=next(count)))
    return sorted((o.session_id, sorted(e.agent_id for e in o.events)) for o in made)


async def test_a_router_started_from_the_snapshot_has_the_view_folded_from_the_whole_log(
    store: EventStore,
) -> None:
    world = World(store)
    for name in ("ann", "ben", "cat", "dan"):
        await world.agent(name, capacity=2)
        world.clock.advance(1)
    idle = await world.queue(["ann", "ben"])
    rotating = await world.queue(["cat", "dan", "ann"], RoutingPolicy.ROUND_ROBIN)
    handed = [await world.hand_off(q) for q in (idle, idle, rotating, rotating, idle)]
    named = await world.hand_off(agents=["dan"])
    await world.settle()
    await world.accept("ann", handed[0])
    await world.decline(world.offered_to(handed[1])[0], handed[1])
    await world.later(5)
    await world.end(handed[0])  # a handling time for the estimate (R5)
    await world.status("ben", AgentStatus.AWAY)
    await world.settle()
    assert world.view.tasks and named in world.view.tasks

    folded = _router(world)  # no snapshot yet: the whole log
    await folded.catch_up()
    saving = _router(world, snapshot_every=1)
    await saving.catch_up()
    saved = await store.load_snapshot("routing-view/v3")
    assert saved is not None and saved[0] == saving.view.position
    restored = _router(world)
    await restored.catch_up()
    _same(folded.view, restored.view)

    later = await world.hand_off(rotating)  # what comes after the snapshot is folded on it
    await world.status("ben", AgentStatus.AVAILABLE)
    await world.settle()
    for router in (folded, restored):
        await router.catch_up()
    _same(folded.view, restored.view)
    assert later in restored.view.tasks
    assert _plan(folded.view, world) == _plan(restored.view, world)  # and decides the same
