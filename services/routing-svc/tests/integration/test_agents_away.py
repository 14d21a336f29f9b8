"""R12 (status reasons, time per state) and R13 (not responding) on both logs, with the router
stepped by hand on a fake clock; and through routing-svc on the real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from eventlog import EventStore
from routing_svc.bootstrap import RoutingService, start
from support_contracts import Envelope
from support_contracts.refusals import Refusal
from support_contracts.routing import AcceptOffer
from support_contracts.vocabulary import AgentStatus
from support_rpc import RpcClient
from support_testkit.plugin import SettingsFor, fresh_schema
from support_testkit.wire import wire_call

from .replicas import settings
from .world import World, command


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


async def not_responding(world: World) -> list[str]:
    changes = await world.recorded("AgentStatusChanged")
    return [c["agent_id"] for c in changes if c.get("reason") == "not_responding"]


async def test_r13_an_agent_who_lets_offers_expire_in_a_row_is_set_away_once(
    world: World,
) -> None:
    for name in ("ann", "ben"):
        await world.agent(name)
        world.clock.advance(1)  # ann is free longest: offered first
    queue = await world.queue(["ann", "ben"], offer_timeout=30, max_missed=2)
    first = await world.hand_off(queue)
    await world.settle()
    await world.later(31)  # ann lets the first expire; routing moves on to ben
    assert world.offered_to(first) == ["ben"]
    await world.accept("ben", first)
    second = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(second) == ["ann"]

    other = world.new_router()  # a second router acting on the same log at once
    other.leading = True
    world.clock.advance(31)  # the second in a row
    await asyncio.gather(world.router.step(), other.step())
    await world.settle()
    await other.step()
    assert await not_responding(world) == ["ann"]  # once, whichever router did it
    assert world.view.agents["ann"].status is AgentStatus.AWAY
    assert world.view.agents["ann"].reason == "not_responding"
    assert world.offered_to(second) == []  # ben is busy, ann is away: nobody

    await world.status("ann", AgentStatus.AVAILABLE)  # no offers until available again
    third = await world.hand_off(queue)
    await world.settle()
    assert world.offered_to(third) == ["ann"]  # (the second she let pass: routing moved on)


async def test_r13_an_agent_set_away_gets_no_offer_while_the_log_holds_the_change_back(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The router sets ann away; the log holds that event back (PostgreSQL does, while an
    older transaction runs) but gives the router her accept, older than it, which ends her
    run of misses. She is away all the same: no offer until the view reads the change (issue
    18's race test offered an agent work 70 ms after the router set it away)."""
    await world.agent("ann", capacity=3)
    queue = await world.queue(["ann"], offer_timeout=30, max_missed=2)
    missed = [await world.hand_off(queue), await world.hand_off(queue)]
    await world.settle()
    await world.later(20)
    answered = await world.hand_off(queue)
    await world.settle()
    assert set(world.view.agents["ann"].offers.values()) == {*missed, answered}
    world.clock.advance(11)  # the first two offers expire
    await world.router.step()
    await world.router.catch_up()  # two misses in a row: to be set away
    offer_id = world._offer_id("ann", answered)
    accept = command(AcceptOffer, session_id=answered, offer_id=offer_id, agent_id="ann")
    await world.handlers.accept(accept)  # she answers the third, just before she is set away
    waiting = await world.hand_off(queue)
    read_all = world.store.read_all

    async def holding_back(after_position: int = -1, limit: int = 1000) -> list[Envelope]:
        events = await read_all(after_position, limit)
        held = [e.global_position for e in events if e.data.get("reason") == "not_responding"]
        return [e for e in events if not held or e.global_position < held[0]]

    monkeypatch.setattr(world.store, "read_all", holding_back)
    await world.router.act()  # ann set away
    recorded = await read_all(-1, 100_000)
    assert [e.data["agent_id"] for e in recorded if e.data.get("reason")] == ["ann"]
    await world.router.step()  # the accept read, the change not yet
    assert world.view.agents["ann"].missed == 0
    assert world.offered_to(waiting) == []
    monkeypatch.setattr(world.store, "read_all", read_all)
    await world.settle()
    assert world.view.agents["ann"].status is AgentStatus.AWAY
    assert world.view.agents["ann"].set_away_at is None and world.offered_to(waiting) == []
    assert [e["session_id"] for e in await world.recorded("OfferMade")] == [
        *map(str, missed),
        str(answered),
    ]


async def test_r12_an_agent_away_for_lunch_and_its_time_per_state(world: World) -> None:
    await world.agent("ann")  # available at 10:00
    world.clock.advance(600)
    await world.status("ann", AgentStatus.AWAY, "lunch")
    world.clock.advance(1800)
    await world.status("ann", AgentStatus.AWAY, "training")
    world.clock.advance(60)
    await world.settle()
    viewed = world.view.agents["ann"]
    assert (viewed.status, viewed.reason) == (AgentStatus.AWAY, "training")
    assert viewed.time_in_state(world.clock.now()) == {
        "offline": 0.0,
        "available": 600.0,
        "away": 1860.0,
        "away:lunch": 1800.0,
        "away:training": 60.0,
    }
    with pytest.raises(Refusal) as refused:
        await world.status("ann", AgentStatus.OFFLINE, "holiday")
    assert (refused.value.status, refused.value.code) == (422, "unknown_reason")


@pytest_asyncio.fixture
async def routing_svc(
    database_url: str, settings_for: SettingsFor
) -> AsyncIterator[RoutingService]:
    async with fresh_schema(database_url) as schema:
        service = await start(settings(settings_for, schema, "no-session-svc-needed"))
        yield service
        await service.stop()


async def test_r12_the_site_s_reasons_and_an_agent_s_reason_through_routing_svc(
    amqp_url: str, routing_svc: RoutingService
) -> None:
    client = await RpcClient(amqp_url).connect()
    call = wire_call(client, routing_svc.settings.command_queue, actor="root")

    try:
        assert (await call("GetStatusReasons"))["reasons"] == [
            "lunch", "break", "training", "meeting"
        ]  # fmt: skip
        reasons = ["lunch", "training", "end_of_shift"]
        assert (await call("ConfigureStatusReasons", reasons=reasons))["reasons"] == reasons
        assert (await call("GetStatusReasons"))["reasons"] == reasons
        await call("ConfigureAgent", agent_id="ann", name="Ann", max_sessions=1)
        away = await call("ChangeAgentStatus", agent_id="ann", status="offline",
                          reason="end_of_shift")  # fmt: skip
        agent = away["agent"]
        assert isinstance(agent, dict)
        assert (agent["status"], agent["reason"]) == ("offline", "end_of_shift")
        assert set(agent["time_in_state"]) == {"offline", "offline:end_of_shift"}
        with pytest.raises(Refusal) as refused:
            await call("ChangeAgentStatus", agent_id="ann", status="away", reason="break")
        assert refused.value.code == "unknown_reason" and "end_of_shift" in refused.value.message
        with pytest.raises(Refusal) as reserved:
            await call("ConfigureStatusReasons", reasons=["lunch", "not_responding"])
        assert (reserved.value.status, reserved.value.code) == (422, "reserved_reason")
    finally:
        await client.close()
