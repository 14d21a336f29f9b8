"""R17: what a supervisor sees of the sessions waiting for an agent, and a waiting session
offered to an agent of the supervisor's choosing; on both logs, with the router stepped by hand
on a fake clock."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from eventlog import EventStore
from routing_svc.handlers import Routing, list_waiting, offer_to_agent
from support_contracts.refusals import NotFound, Refusal
from support_contracts.routing import ListWaiting, OfferToAgent

from .test_queue_order import busy_desk
from .world import World, command


@pytest.fixture
async def world(store: EventStore) -> World:
    return World(store)


async def nobody_asked(*_: object) -> dict[str, object]:
    raise AssertionError("listing the waiting sessions asks session-svc nothing")


async def test_r17_a_supervisor_sees_each_waiting_session_where_it_stands(world: World) -> None:
    printers, _ = await busy_desk(world)  # ann holds one: the others wait
    low = await world.hand_off(printers, priority=7)
    await world.later(30)
    urgent = await world.hand_off(printers, priority=2)
    await world.agent("bob")
    named = await world.hand_off(agents=["bob"])
    await world.later(10)
    routing = Routing(world.handlers, world.view, sessions=nobody_asked)

    listed = (await list_waiting(routing, command(ListWaiting))).sessions
    assert [(w.session_id, w.position) for w in listed] == [(urgent, 1), (low, 2), (named, None)]
    first, second, by_name = listed
    assert (first.queue_id, first.queue_name, first.priority) == (printers, "Printers", 2)
    assert (first.waited_seconds, second.waited_seconds) == (10, 40)
    assert first.offered_to == second.offered_to == []  # ann has no room
    assert (by_name.queue_id, by_name.named_agents, by_name.offered_to) == (None, ["bob"], ["bob"])

    in_printers = await list_waiting(routing, command(ListWaiting, queue_id=printers))
    assert [w.session_id for w in in_printers.sessions] == [urgent, low]
    with pytest.raises(NotFound):
        await list_waiting(routing, command(ListWaiting, queue_id=named))  # not a queue


async def test_r17_a_supervisor_offers_a_waiting_session_to_an_agent_of_their_choosing(
    world: World,
) -> None:
    printers, _ = await busy_desk(world)  # ann, the queue's only agent, has no room
    waiting = await world.hand_off(printers)
    await world.agent("bob", capacity=2)  # not of the queue
    await world.agent("cid", capacity=1)
    await world.settle()
    routing = Routing(world.handlers, world.view, sessions=nobody_asked)

    async def offer(agent_id: str, session_id: UUID = waiting) -> str:
        ids = {"command_id": uuid4(), "correlation_id": uuid4(), "actor_id": "sam"}
        cmd = OfferToAgent(**ids, session_id=session_id, agent_id=agent_id)
        try:
            await offer_to_agent(routing, cmd)
        except Refusal as refused:
            return f"{refused.status} {refused.code}"
        await world.settle()
        return "offered"

    assert await offer("ann") == "409 at_capacity"
    assert await offer("nobody") == "404 unknown_agent"
    assert await offer("bob") == "offered"
    [made] = [m for m in await world.recorded("OfferMade") if m["agent_id"] == "bob"]
    assert made["offered_by"] == "sam" and made["session_id"] == str(waiting)
    assert await offer("bob") == "409 already_offered"
    await world.decline("bob", waiting)
    assert await offer("bob") == "409 declined_before"  # R4: not again
    assert await offer("cid") == "offered"
    await world.accept("cid", waiting)  # answered as any offer
    taken = [a["agent_id"] for a in await world.recorded("OfferAccepted")]
    assert taken == ["ann", "cid"]  # ann's own session, then this one
    assert await offer("bob") == "409 not_waiting"
