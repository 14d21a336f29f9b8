"""R2-R7 through the router, on both logs, with a fake clock: hand-offs arrive through the
inbox as session-svc publishes them, the router offers, agents accept and decline."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest

from eventlog import EventStore
from routing_svc.queries import standing_of
from support_contracts.refusals import StateForbids
from support_contracts.routing import AcceptOffer
from support_contracts.vocabulary import AgentStatus, RoutingPolicy

from .world import World, command


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


async def agents(world: World, *names: str, capacity: int = 1) -> None:
    for name in names:
        await world.agent(name, capacity)
        world.clock.advance(1)  # ann is free longest, then ben, ...


async def test_r4_a_hand_off_is_offered_at_once_with_the_queue_timeout(world: World) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], offer_timeout=30)
    session = await world.hand_off(queue)
    await world.settle()
    [made] = await world.recorded("OfferMade")
    assert made["agent_id"] == "ann" and made["session_id"] == str(session)
    assert made["expires_at"].startswith("2026-11-24T10:00:32")  # two agents set up, +30 s


async def test_r2_round_robin_offers_in_rotation(world: World) -> None:
    await agents(world, "ann", "ben", "cat", capacity=3)
    queue = await world.queue(["ann", "ben", "cat"], RoutingPolicy.ROUND_ROBIN)
    for _ in range(4):
        await world.hand_off(queue)
        await world.settle()
    order = [e["agent_id"] for e in await world.recorded("OfferMade")]
    assert order == ["ann", "ben", "cat", "ann"]


async def test_r2_least_busy_offers_to_the_agent_with_fewest_sessions(world: World) -> None:
    await agents(world, "ann", "ben", capacity=3)
    queue = await world.queue(["ann", "ben"], RoutingPolicy.LEAST_BUSY)
    first = await world.hand_off(queue)
    await world.settle()
    await world.accept("ann", first)
    await world.hand_off(queue)
    await world.settle()
    assert [e["agent_id"] for e in await world.recorded("OfferMade")] == ["ann", "ben"]


async def test_r2_everybody_offers_to_all_eligible_and_the_first_accept_wins(
    world: World,
) -> None:
    await agents(world, "ann", "ben", "cat")
    await world.status("cat", AgentStatus.AWAY)
    queue = await world.queue(["ann", "ben", "cat"], RoutingPolicy.EVERYBODY)
    session = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(session) == ["ann", "ben"]
    [ann_offer] = [
        UUID(e["offer_id"]) for e in await world.recorded("OfferMade") if e["agent_id"] == "ann"
    ]
    await world.accept("ben", session)
    withdrawn = await world.recorded("OfferWithdrawn")
    assert [(w["agent_id"], w["reason"]) for w in withdrawn] == [("ann", "accepted_by_another")]
    late = command(AcceptOffer, session_id=session, offer_id=ann_offer, agent_id="ann")
    with pytest.raises(StateForbids, match="another agent has taken"):
        await world.handlers.accept(late)
    assert world.offers("ann") == [] and world.view.agents["ben"].sessions == {session}


async def test_r3_only_available_agents_below_capacity_are_offered_work(world: World) -> None:
    await agents(world, "ann", "ben", "cat")
    await world.status("ben", AgentStatus.OFFLINE)
    queue = await world.queue(["ann", "ben", "cat"])
    first = await world.hand_off(queue)
    await world.settle()
    await world.accept("ann", first)  # ann is full (capacity 1)
    second = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(second) == ["cat"]
    await world.accept("cat", second)
    third = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(third) == []  # nobody may take it: it waits
    assert standing_of(world.view, third, world.clock.now()) is not None


async def test_r3_going_away_stops_offers_at_once_and_withdraws_the_open_one(
    world: World,
) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], offer_timeout=300)
    session = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(session) == ["ann"]
    await world.status("ann", AgentStatus.AWAY)
    await world.settle()
    withdrawn = await world.recorded("OfferWithdrawn")
    assert [(w["agent_id"], w["reason"]) for w in withdrawn] == [("ann", "agent_unavailable")]
    assert world.offered_to(session) == ["ben"]


async def test_r4_an_unanswered_offer_expires_and_routing_moves_on(world: World) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], offer_timeout=30)
    session = await world.hand_off(queue)
    await world.settle()
    await world.later(30)
    assert world.offered_to(session) == ["ann"]  # not yet: expiry is after the timeout
    await world.later(1)
    [expired] = await world.recorded("OfferExpired")
    assert expired["agent_id"] == "ann"
    assert world.offered_to(session) == ["ben"]


async def test_r4_a_decliner_is_not_offered_the_session_again(world: World) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], escalation=60)
    session = await world.hand_off(queue)
    await world.settle()
    await world.decline("ann", session)
    assert world.offered_to(session) == ["ben"]
    await world.decline("ben", session)
    await world.later(61)  # escalated: everybody eligible, but never a decliner
    assert await world.recorded("TaskEscalated")
    assert world.offered_to(session) == []
    assert [e["agent_id"] for e in await world.recorded("OfferMade")] == ["ann", "ben"]


async def test_r4_past_the_escalation_threshold_every_eligible_agent_is_offered(
    world: World,
) -> None:
    await agents(world, "ann", "ben", "cat", "dan")
    queue = await world.queue(["ann", "ben", "cat", "dan"], escalation=60, offer_timeout=300)
    session = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(session) == ["ann"]
    await world.status("dan", AgentStatus.AWAY)
    await world.later(59)
    assert not await world.recorded("TaskEscalated")
    await world.later(2)
    [escalated] = await world.recorded("TaskEscalated")
    assert escalated["session_id"] == str(session)
    assert world.offered_to(session) == ["ann", "ben", "cat"]


async def test_r5_named_agents_are_offered_at_once_and_the_others_withdrawn(
    world: World,
) -> None:
    await agents(world, "ann", "ben", "cat", "dan")
    session = await world.hand_off(agents=["ben", "cat", "dan"])
    await world.settle()
    assert world.offered_to(session) == ["ben", "cat", "dan"]
    await world.accept("cat", session)
    withdrawn = sorted(w["agent_id"] for w in await world.recorded("OfferWithdrawn"))
    assert withdrawn == ["ben", "dan"]
    [accepted] = await world.recorded("OfferAccepted")
    assert (accepted["agent_id"], accepted["agent_name"]) == ("cat", "Cat")
    again = command(
        AcceptOffer, session_id=session, offer_id=UUID(accepted["offer_id"]), agent_id="cat"
    )
    assert (await world.handlers.accept(again)).assigned_to == "cat"  # a retry: same answer
    assert len(await world.recorded("AgentSessionStarted")) == 1


async def test_r5_a_named_agent_busy_now_is_offered_when_it_frees_up(world: World) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann"])
    held = await world.hand_off(queue)
    await world.settle()
    await world.accept("ann", held)
    named = await world.hand_off(agents=["ann"])
    await world.settle()
    assert world.offered_to(named) == []
    await world.end(held)
    await world.settle()
    assert world.offered_to(named) == ["ann"]


async def test_r5_position_and_estimated_wait_from_recent_handling_times(world: World) -> None:
    await agents(world, "ann", capacity=1)
    queue = await world.queue(["ann"])
    first = await world.hand_off(queue)
    await world.settle()
    await world.accept("ann", first)
    await world.later(300)
    await world.end(first)  # handled in 300 s
    await world.settle()
    second = await world.hand_off(queue)
    await world.settle()
    await world.accept("ann", second)
    waiting = [await world.hand_off(queue) for _ in range(3)]
    await world.settle()
    standings = [standing_of(world.view, s, world.clock.now()) for s in waiting]
    assert [s.position for s in standings if s] == [1, 2, 3]
    assert [s.waiting for s in standings if s] == [3, 3, 3]
    assert [s.estimated_wait_seconds for s in standings if s] == [300.0, 600.0, 900.0]
    await world.end(waiting[0])  # the first leaves: the others move up
    await world.settle()
    assert [standing_of(world.view, s, world.clock.now()).position for s in waiting[1:]] == [1, 2]  # type: ignore[union-attr]


async def test_r6_a_session_ended_while_waiting_leaves_the_queue_and_frees_its_offer(
    world: World,
) -> None:
    await agents(world, "ann")
    queue = await world.queue(["ann"])
    first = await world.hand_off(queue)
    second = await world.hand_off(queue)
    await world.settle()
    assert world.offers("ann") == [first]
    await world.end(first)
    await world.settle()
    [withdrawn] = await world.recorded("TaskWithdrawn")
    assert withdrawn == {**withdrawn, "session_id": str(first), "reason": "session_ended"}
    assert world.offers("ann") == [second]  # the slot the offer held went to the next


async def test_r7_the_oldest_waiting_session_is_offered_when_a_session_ends(
    world: World,
) -> None:
    await agents(world, "ann")
    queue = await world.queue(["ann"])
    held = await world.hand_off(queue)
    await world.settle()
    await world.accept("ann", held)
    older = await world.hand_off(queue)
    world.clock.advance(1)
    newer = await world.hand_off(queue)
    await world.settle()
    assert world.offers("ann") == []
    await world.end(held)
    await world.settle()
    assert world.offers("ann") == [older]
    finished = await world.recorded("AgentSessionFinished")
    assert [f["session_id"] for f in finished] == [str(held)]
    assert standing_of(world.view, newer, world.clock.now()) is not None


async def test_r7_an_agent_handing_a_session_on_frees_its_slot(world: World) -> None:
    await agents(world, "ann", "ben")
    printers = await world.queue(["ann"])
    billing = await world.queue(["ben"])
    held = await world.hand_off(printers)
    await world.settle()
    await world.accept("ann", held)
    waiting = await world.hand_off(printers)
    await world.settle()
    await world.hand_on(held, billing)  # ann hands her session to billing
    await world.settle()
    assert world.offers("ann") == [waiting] and world.offers("ben") == [held]


async def test_r7_an_agent_coming_back_is_offered_the_oldest_waiting_session(
    world: World,
) -> None:
    await agents(world, "ann")
    await world.status("ann", AgentStatus.AWAY)
    queue = await world.queue(["ann"])
    older = await world.hand_off(queue)
    world.clock.advance(1)
    await world.hand_off(queue)
    await world.settle()
    assert world.offers("ann") == []
    await world.status("ann", AgentStatus.AVAILABLE)
    await world.settle()
    assert world.offers("ann") == [older]


async def test_timers_survive_a_restart_of_the_router(world: World) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], offer_timeout=30)
    session = await world.hand_off(queue)
    await world.settle()
    world.router = world.new_router()  # a restarted replica: nothing in memory
    world.router.leading = True
    world.clock.advance(31)
    await world.settle()
    assert [e["agent_id"] for e in await world.recorded("OfferExpired")] == ["ann"]
    assert world.offered_to(session) == ["ben"]


async def test_timers_run_once_with_two_routers_acting_at_once(world: World) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], offer_timeout=30)
    await world.hand_off(queue)
    await world.settle()
    other = world.new_router()
    other.leading = True  # as if two held the lead: expected versions still decide once
    await other.catch_up()
    world.clock.advance(31)
    await world.router.catch_up()
    await asyncio.gather(world.router.act(), other.act())
    await world.settle()
    assert len(await world.recorded("OfferExpired")) == 1
    assert [e["agent_id"] for e in await world.recorded("OfferMade")] == ["ann", "ben"]


async def test_r4_an_offer_due_while_a_replica_followed_expires_once_it_leads(
    world: World,
) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], offer_timeout=30)
    session = await world.hand_off(queue)
    await world.settle()
    world.router.leading = False  # the leader is gone; this replica follows meanwhile
    world.clock.advance(31)
    await world.settle()  # a follower drops the timers that fall due: not its business
    assert await world.recorded("OfferExpired") == []
    world.router.take_lead()
    await world.settle()
    assert [e["agent_id"] for e in await world.recorded("OfferExpired")] == ["ann"]
    assert world.offered_to(session) == ["ben"]


async def test_r4_an_expiry_the_database_did_not_take_is_tried_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    await agents(world, "ann", "ben")
    queue = await world.queue(["ann", "ben"], offer_timeout=30)
    session = await world.hand_off(queue)
    await world.settle()
    append = world.store.append

    async def away(*args: object, **kwargs: object) -> None:
        raise ConnectionError("the database is away")

    monkeypatch.setattr(world.store, "append", away)
    world.clock.advance(31)
    with pytest.raises(ConnectionError):
        await world.router.step()
    monkeypatch.setattr(world.store, "append", append)
    await world.settle()
    assert [e["agent_id"] for e in await world.recorded("OfferExpired")] == ["ann"]
    assert world.offered_to(session) == ["ben"]
