"""session-svc as it runs: two replicas on one log and one command queue, asked over
RabbitMQ request/reply; events leave through the outbox; routing events come in through the
inbox (S1, S2, S9, S12, R6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import pytest
import pytest_asyncio

from eventlog import NewEvent
from eventlog.rabbit import RabbitPublisher
from session_svc.bootstrap import SessionService, start
from session_svc.settings import Settings
from support_contracts import Envelope
from support_contracts.refusals import Refusal
from support_contracts.routing import OfferAccepted
from support_rpc import RpcClient
from support_testkit import eventually
from support_testkit.plugin import SettingsFor, fresh_schema
from support_testkit.wire import wire_call

pytestmark = pytest.mark.integration


class Service:
    """Two replicas of session-svc and a caller, with names of this test's own."""

    def __init__(self, replicas: list[SessionService], client: RpcClient) -> None:
        self.replicas, self.client = replicas, client
        self.queue = replicas[0].settings.command_queue

    async def call(self, command_type: str, actor: str | None, **fields: Any) -> dict[str, Any]:
        call = wire_call(self.client, self.queue, actor=actor, within_seconds=5)
        return await call(command_type, **fields)

    async def start_session(self, csr: str) -> dict[str, Any]:
        reply = await self.call("StartSession", csr, csr_id=csr, csr_name=csr.title())
        return reply["session"]  # type: ignore[no-any-return]


@pytest_asyncio.fixture
async def svc(
    database_url: str, amqp_url: str, settings_for: SettingsFor
) -> AsyncIterator[Service]:
    async with fresh_schema(database_url) as schema:
        settings = settings_for(Settings, schema, console_watch_seconds=3600)
        replicas = [await start(settings) for _ in range(2)]
        client = await RpcClient(amqp_url).connect()
        yield Service(replicas, client)
        await client.close()
        for replica in replicas:
            await replica.stop()


async def test_commands_and_queries_over_request_reply(svc: Service) -> None:
    session = await svc.start_session("alice")
    assert session["status"] == "live" and len(session["session_number"]) == 9
    found = await svc.call("FindSessionByNumber", None, session_number=session["session_number"])
    assert found["session"]["session_id"] == session["session_id"]
    joined = await svc.call("JoinAsCustomer", None, session_id=session["session_id"], name="Bob")
    assert joined["session"]["active_customer"] == joined["participant_id"]


async def test_refusals_and_bad_commands_come_back_as_errors(svc: Service) -> None:
    session = await svc.start_session("alice")
    with pytest.raises(Refusal) as refused:
        await svc.call("EndSession", "mallory", session_id=session["session_id"])
    assert (refused.value.status, refused.value.code) == (403, "not_controller")
    with pytest.raises(Refusal) as invalid:
        await svc.call(
            "HandOffToQueue",
            "alice",
            session_id=session["session_id"],
            queue_id=str(uuid4()),
            message="x" * 346,
        )
    assert invalid.value.status == 422 and "message" in invalid.value.message
    with pytest.raises(Refusal) as unknown:
        await svc.call("GetSession", "alice", session_id=str(uuid4()))
    assert unknown.value.status == 404


async def test_s2_starts_racing_on_two_replicas_give_one_session(svc: Service) -> None:
    for n in range(8):
        results = await asyncio.gather(
            *(svc.start_session(f"csr-{n}") for _ in range(4)), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, Refusal)]
        assert len(refused) == 3 and {r.code for r in refused} == {"session_limit"}, results
    assert all(r.commands.answered > 0 for r in svc.replicas), "both replicas took commands"


async def test_events_leave_through_the_outbox(svc: Service, amqp_url: str) -> None:
    names_exchange = svc.replicas[0].settings.exchange
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        names_exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, "session.#")
    session = await svc.start_session("alice")
    message = await eventually(lambda: queue.get(fail=False), what="SessionStarted published")
    envelope = Envelope.parse(message.body)
    assert (envelope.type, envelope.data["session_id"]) == ("SessionStarted", session["session_id"])
    await connection.close()


async def test_r6_an_accepted_offer_makes_its_agent_controller(svc: Service, amqp_url: str) -> None:
    await svc.call(
        "ChangeCsrSettings",
        "admin",
        csr_id="alice",
        settings={"session_mode": "single", "is_webacd_agent": True, "voice_supported": True},
    )
    session = await svc.start_session("alice")
    sid = session["session_id"]
    await svc.call("HandOffToQueue", "alice", session_id=sid, queue_id=str(uuid4()))
    accepted = OfferAccepted(
        offer_id=uuid4(), task_id=uuid4(), session_id=UUID(sid), agent_id="dave", agent_name="Dave"
    )
    cause = uuid4()
    envelope = NewEvent.from_event(
        accepted, occurred_at=datetime.now(UTC), correlation_id=cause, causation_id=cause
    ).recorded("routing-task-1", 0, 1)
    publisher = RabbitPublisher(amqp_url, svc.replicas[0].settings.exchange)
    await publisher.publish([envelope, envelope])  # delivered twice: assigned once

    async def controller() -> str | None:
        return (await svc.call("GetSession", "dave", session_id=sid))["session"]["controller"]

    assert await eventually(controller, what="the agent assigned") == "dave"
    events = (await svc.call("GetSessionEvents", "dave", session_id=sid))["events"]
    assert [e["type"] for e in events].count("AgentAssigned") == 1
    assert events[-1]["causation_id"] == str(envelope.event_id)
    await publisher.close()


async def test_two_replicas_racing_one_session_let_one_command_win(svc: Service) -> None:
    limits = {
        "multi_session_allowed": True,
        "max_sessions_per_csr": 3,
        "multiple_customers_allowed": True,
        "max_customers_per_session": 1,
        "console_grace_seconds": 60,
        "invitation_ttl_seconds": 3600,
    }
    await svc.call("ChangeSiteSettings", "admin", settings=limits)
    for n in range(8):
        sid = (await svc.start_session(f"racer-{n}"))["session_id"]
        joins = [
            svc.call("JoinAsCustomer", None, session_id=sid, name=name) for name in ("Bob", "Dana")
        ]
        results = await asyncio.gather(*joins, return_exceptions=True)
        refused = [r for r in results if isinstance(r, Refusal)]
        assert [r.code for r in refused] == ["customer_limit"], results
        state = (await svc.call("GetSession", f"racer-{n}", session_id=sid))["session"]
        assert [p["role"] for p in state["participants"]].count("customer") == 1
