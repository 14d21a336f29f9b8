"""routing-svc with session-svc over the real RabbitMQ and PostgreSQL: the entry form (R8),
a csr's hand-off (S9), the offer, the accept that makes the agent controller (R6), the end
that frees the agent (R7); a routing-svc started after the events it needs were published
(issue 14.11); and ``python -m routing_svc`` as ops run it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio

from routing_svc.bootstrap import RoutingService, start
from session_svc.bootstrap import SessionService
from support_contracts.refusals import Refusal
from support_rpc import RpcClient
from support_testkit.plugin import RabbitNames, SettingsFor, fresh_schema, waiting_in
from support_testkit.processes import start_service
from support_testkit.waiting import eventually
from support_testkit.wire import wire_call

from .replicas import settings

pytestmark = pytest.mark.integration

ALWAYS = [{"weekday": d, "opens": "00:00:00", "closes": "23:59:59"} for d in range(7)]


@pytest_asyncio.fixture
async def routing_svc(
    database_url: str,
    settings_for: SettingsFor,
    session_svc: SessionService,
) -> AsyncIterator[RoutingService]:
    async with fresh_schema(database_url) as schema:
        service = await start(settings(settings_for, schema, session_svc.settings.command_queue))
        yield service
        await service.stop()


class Caller:
    def __init__(self, client: RpcClient, routing: RoutingService, sessions: SessionService):
        self._client = client
        self._queues = {
            "routing": routing.settings.command_queue,
            "session": sessions.settings.command_queue,
        }

    async def __call__(
        self, service: str, command_type: str, actor: str | None = None, **fields: Any
    ) -> dict[str, Any]:
        return await wire_call(self._client, self._queues[service], actor=actor)(
            command_type, **fields
        )


@pytest_asyncio.fixture
async def call(
    amqp_url: str, routing_svc: RoutingService, session_svc: SessionService
) -> AsyncIterator[Caller]:
    client = await RpcClient(amqp_url).connect()
    yield Caller(client, routing_svc, session_svc)
    await client.close()


async def queue(call: Caller, agents: list[str], hours: list[dict[str, Any]] = ALWAYS) -> str:
    definition = {
        "name": "Printers",
        "agent_ids": agents,
        "policy": "most_idle",
        "time_zone": "Europe/Prague",
        "hours": hours,
        "escalation_seconds": 600,
        "offer_timeout_seconds": 60,
    }
    reply = await call("routing", "ConfigureQueue", "admin", definition=definition)
    return str(reply["queue_id"])


async def agent(call: Caller, agent_id: str, capacity: int = 1) -> None:
    await call(
        "routing", "ConfigureAgent", "admin", agent_id=agent_id, name="Ann", max_sessions=capacity
    )
    await call("routing", "ChangeAgentStatus", agent_id, agent_id=agent_id, status="available")


async def offer_of(call: Caller, agent_id: str) -> dict[str, Any]:
    async def offered() -> dict[str, Any] | None:
        try:
            reply = await call("routing", "GetAgent", agent_id, agent_id=agent_id)
        except Refusal as error:  # queries answer from the view, which follows the log
            assert error.status == 404
            return None
        offers = reply["agent"]["offers"]
        assert len(offers) <= 1
        return dict(offers[0]) if offers else None

    return await eventually(offered, within=10, what=f"an offer to {agent_id}")


async def test_r8_the_entry_form_opens_a_waiting_session_routed_to_an_agent(call: Caller) -> None:
    await agent(call, "ann")
    queue_id = await queue(call, ["ann"])
    form = await call(
        "routing",
        "SubmitEntryForm",
        queue_id=queue_id,
        name="Carol",
        email="carol@example.com",
        problem="The printer prints blank pages",
    )
    session = form["session"]
    assert session["status"] == "waiting" and form["participant_id"]
    offer = await offer_of(call, "ann")
    assert offer["session_id"] == session["session_id"] and offer["queue_name"] == "Printers"
    standing = await call("routing", "GetWaitingPosition", request_id=form["request_id"])
    assert (standing["position"], standing["waiting"]) == (1, 1)

    await call(
        "routing",
        "AcceptOffer",
        "ann",
        session_id=session["session_id"],
        offer_id=offer["offer_id"],
        agent_id="ann",
    )

    async def controller() -> bool:
        reply = await call("session", "GetSession", "ann", session_id=session["session_id"])
        return bool(reply["session"]["controller"] == "ann")

    await eventually(controller, within=10)  # R6: session-svc made the agent controller
    await call("session", "EndSession", "ann", session_id=session["session_id"])

    async def freed() -> bool:
        return not (await call("routing", "GetAgent", "ann", agent_id="ann"))["agent"]["sessions"]

    await eventually(freed, within=10)  # R7: the slot is free again


async def test_r8_outside_its_hours_the_form_says_the_queue_is_closed_and_when_it_opens(
    call: Caller,
) -> None:
    tomorrow = (datetime.now(UTC).weekday() + 2) % 7  # not today nor (in Prague) tomorrow
    queue_id = await queue(
        call, ["ann"], [{"weekday": tomorrow, "opens": "09:00:00", "closes": "17:00:00"}]
    )
    with pytest.raises(Refusal) as refused:
        await call(
            "routing",
            "SubmitEntryForm",
            queue_id=queue_id,
            name="Carol",
            email="carol@example.com",
            problem="help",
        )
    assert (refused.value.status, refused.value.code) == (409, "queue_closed")
    weekday = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert f"opens {weekday[tomorrow]} 09:00 (Europe/Prague)" in refused.value.message


async def test_s9_a_csr_hands_a_session_to_named_agents_and_one_takes_it(call: Caller) -> None:
    await agent(call, "ann")
    await agent(call, "ben")
    agent_settings = {"session_mode": "single", "is_webacd_agent": True, "voice_supported": True}
    for csr in ("alice", "ann", "ben"):  # S9: WebACD agents, for session-svc too
        await call("session", "ChangeCsrSettings", "admin", csr_id=csr, settings=agent_settings)
    started = await call("session", "StartSession", "alice", csr_id="alice", csr_name="Alice")
    session_id = started["session"]["session_id"]
    await call(
        "session",
        "HandOffToAgents",
        "alice",
        session_id=session_id,
        agent_ids=["ann", "ben"],
        message="Paper jam, tray 2",
    )
    ann, ben = await offer_of(call, "ann"), await offer_of(call, "ben")
    assert ann["message"] == ben["message"] == "Paper jam, tray 2"
    await call(
        "routing",
        "AcceptOffer",
        "ben",
        session_id=session_id,
        offer_id=ben["offer_id"],
        agent_id="ben",
    )
    with pytest.raises(Refusal) as late:
        await call(
            "routing",
            "AcceptOffer",
            "ann",
            session_id=session_id,
            offer_id=ann["offer_id"],
            agent_id="ann",
        )
    assert late.value.status == 409

    async def controller() -> bool:
        reply = await call("session", "GetSession", "ben", session_id=session_id)
        return bool(reply["session"]["controller"] == "ben")

    await eventually(controller, within=10)


async def test_a_queue_is_known_the_moment_it_is_configured(call: Caller) -> None:
    """Issue 14.1: the gateway asks for the queue before a hand-off to it; a queue just made
    is there even when this replica's view has not folded it yet (it reads the log)."""
    for _ in range(5):
        queue_id = await queue(call, [])
        found = await call("routing", "GetQueue", "csr", queue_id=queue_id)
        assert found["queue_id"] == queue_id
    with pytest.raises(Refusal) as unknown:
        await call("routing", "GetQueue", "csr", queue_id="6a1f3c2e-0000-4000-8000-000000000000")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_queue")


async def test_refusals_are_answered_with_their_status(call: Caller) -> None:
    with pytest.raises(Refusal) as unknown:
        await call("routing", "GetAgent", "zed", agent_id="zed")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_agent")
    with pytest.raises(Refusal) as bad:
        await call("routing", "ConfigureAgent", "admin", agent_id="ann", name="Ann", max_sessions=0)
    assert bad.value.status == 422
    with pytest.raises(Refusal) as closed_zone:
        definition = {
            "name": "X",
            "agent_ids": [],
            "policy": "most_idle",
            "time_zone": "Mars/Base",
            "hours": ALWAYS,
            "escalation_seconds": 1,
            "offer_timeout_seconds": 1,
        }
        await call("routing", "ConfigureQueue", "admin", definition=definition)
    assert (closed_zone.value.status, closed_zone.value.code) == (422, "unknown_time_zone")


async def test_the_service_process_answers_and_stops_on_sigterm(
    database_url: str,
    amqp_url: str,
    settings_for: SettingsFor,
    session_svc: SessionService,
) -> None:
    async with fresh_schema(database_url) as schema:
        config = settings(settings_for, schema, session_svc.settings.command_queue)
        service = await start_service(
            "routing_svc", config.as_environment(), until="routing_svc.started"
        )
        client = await RpcClient(amqp_url).connect()
        try:
            ids = {"command_id": str(uuid4()), "correlation_id": str(uuid4())}
            command = {
                **ids,
                "actor_id": "admin",
                "agent_id": "ann",
                "name": "Ann",
                "max_sessions": 2,
            }
            reply = await client.call(
                config.command_queue, "ConfigureAgent", command, within_seconds=30
            )
            assert reply["agent"]["max_sessions"] == 2
        finally:
            code = await service.terminate()
            await client.close()
        service.assert_stopped_cleanly(code)


async def test_issue_14_11_a_routing_svc_started_after_a_hand_off_still_hears_of_it(
    database_url: str,
    amqp_url: str,
    rabbit_names: RabbitNames,
    settings_for: SettingsFor,
    session_svc: SessionService,
) -> None:
    """session-svc, started first, declared the whole topology: its HandedToQueue, published
    while no routing-svc had ever run, waits in routing-svc's queue and is routed once it
    starts (no start order loses an event)."""
    client = await RpcClient(amqp_url).connect()
    commands = session_svc.settings.command_queue
    tell = wire_call(client, commands, actor="alice")

    try:
        await tell("AmendCsrSettings", csr_id="alice", is_webacd_agent=True)
        started = await tell("StartSession", csr_id="alice", csr_name="Alice")
        session_id = started["session"]["session_id"]
        await tell("HandOffToQueue", session_id=session_id, queue_id=str(uuid4()))
    finally:
        await client.close()
    waiting = rabbit_names.topology().subscription("routing-svc").queue
    await eventually(
        lambda: waiting_in(amqp_url, waiting), what="the hand-off waiting in routing-svc's queue"
    )
    async with fresh_schema(database_url) as schema:
        routing = await start(settings(settings_for, schema, commands))
        try:

            async def queued() -> bool:
                events = await routing.store.read_stream(f"routing-{session_id}")
                return [e.type for e in events] == ["TaskQueued"]

            await eventually(queued, what="the hand-off routed by the routing-svc started late")
        finally:
            await routing.stop()
