"""R1, R3 through the recipe, on the in-memory log and PostgreSQL alike."""

from __future__ import annotations

from datetime import time
from typing import Any
from uuid import uuid4

import pytest

from eventlog import EventStore
from routing_svc.writing import RoutingLog, agent_stream, queue_stream
from support_contracts.refusals import Invalid, NotFound
from support_contracts.routing import (
    ChangeAgentStatus,
    ConfigureAgent,
    ConfigureQueue,
    OpeningHours,
    QueueDefinition,
)
from support_contracts.vocabulary import AgentStatus, RoutingPolicy


def ids() -> dict[str, Any]:
    return {"command_id": uuid4(), "correlation_id": uuid4(), "actor_id": "admin"}


DEFINITION = QueueDefinition(
    name="Printers",
    agent_ids=["ann"],
    policy=RoutingPolicy.ROUND_ROBIN,
    time_zone="UTC",
    hours=[OpeningHours(weekday=0, opens=time(8), closes=time(18))],
    escalation_seconds=60,
    offer_timeout_seconds=20,
)


async def test_r1_a_queue_is_created_then_changed_in_its_own_stream(store: EventStore) -> None:
    h = RoutingLog(store)
    queue_id = await h.configure_queue(
        ConfigureQueue(**ids(), definition=DEFINITION), new_id=uuid4()
    )
    changed = DEFINITION.model_copy(update={"policy": RoutingPolicy.EVERYBODY})
    again = await h.configure_queue(
        ConfigureQueue(**ids(), queue_id=queue_id, definition=changed), new_id=uuid4()
    )
    assert again == queue_id
    stream = await store.read_stream(queue_stream(queue_id))
    assert [e.data["definition"]["policy"] for e in stream] == ["round_robin", "everybody"]
    before = await store.read_all()
    with pytest.raises(Invalid):
        await h.configure_queue(
            ConfigureQueue(
                **ids(), definition=DEFINITION.model_copy(update={"time_zone": "Nowhere/Land"})
            ),
            new_id=uuid4(),
        )
    assert await store.read_all() == before


async def test_r3_agents_are_configured_and_change_status(store: EventStore) -> None:
    h = RoutingLog(store)
    with pytest.raises(NotFound):
        await h.change_agent_status(
            ChangeAgentStatus(**ids(), agent_id="ann", status=AgentStatus.AVAILABLE)
        )
    await h.configure_agent(ConfigureAgent(**ids(), agent_id="ann", name="Ann", max_sessions=3))
    agent = await h.change_agent_status(
        ChangeAgentStatus(**ids(), agent_id="ann", status=AgentStatus.AVAILABLE)
    )
    assert (agent.max_sessions, agent.status, agent.can_take_work) == (
        3,
        AgentStatus.AVAILABLE,
        True,
    )
    await h.change_agent_status(
        ChangeAgentStatus(**ids(), agent_id="ann", status=AgentStatus.AVAILABLE)
    )
    assert len(await store.read_stream(agent_stream("ann"))) == 2  # no change, no event


async def test_a_configuration_command_delivered_twice_is_applied_once(store: EventStore) -> None:
    """Issue 13.2: every command handler is idempotent on its command id."""
    h = RoutingLog(store)
    queue = ConfigureQueue(**ids(), definition=DEFINITION)
    first = await h.configure_queue(queue)
    assert await h.configure_queue(queue) == first
    agent = ConfigureAgent(**ids(), agent_id="ann", name="Ann", max_sessions=2)
    await h.configure_agent(agent)
    await h.configure_agent(agent)
    available = ChangeAgentStatus(**ids(), agent_id="ann", status=AgentStatus.AVAILABLE)
    await h.change_agent_status(available)
    assert (await h.change_agent_status(available)).status is AgentStatus.AVAILABLE
    assert len(await store.read_stream(queue_stream(first))) == 1
    assert len(await store.read_stream(agent_stream("ann"))) == 2


async def test_r3_replicas_deciding_on_what_they_last_read_of_an_agent_stay_right(
    store: EventStore,
) -> None:
    """Issue 13: a status change is decided on the agent as this replica last read it and
    appended at that version in one statement. Another replica's change in between makes the
    append conflict, and a "no change" decided on an old read is confirmed on a fresh one."""
    one, two = RoutingLog(store), RoutingLog(store)

    def status(to: AgentStatus) -> ChangeAgentStatus:
        return ChangeAgentStatus(**ids(), agent_id="ann", status=to)

    await one.configure_agent(ConfigureAgent(**ids(), agent_id="ann", name="Ann", max_sessions=1))
    assert (await two.change_agent_status(status(AgentStatus.AVAILABLE))).version == 1
    away = await one.change_agent_status(status(AgentStatus.AWAY))  # one read version 0
    assert (away.status, away.version) == (AgentStatus.AWAY, 2)
    back = await two.change_agent_status(status(AgentStatus.AVAILABLE))  # two: "available"
    assert (back.status, back.version) == (AgentStatus.AVAILABLE, 3)
    again = await one.change_agent_status(status(AgentStatus.AVAILABLE))  # one: "away"
    assert (again.status, again.version) == (AgentStatus.AVAILABLE, 3)
    stream = await store.read_stream(agent_stream("ann"))
    assert [e.data.get("status") for e in stream] == [None, "available", "away", "available"]
