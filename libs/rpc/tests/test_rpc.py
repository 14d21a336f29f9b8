"""Request/reply through the real RabbitMQ, and in one process (``support_rpc.memory``, what the
embedded demo runs on) with the same behaviour: many in flight, errors, timeouts, a late
service, a stopping one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest
import pytest_asyncio

from support_contracts.refusals import Refusal, StateForbids
from support_rpc import RpcClient, RpcServer, RpcTimeout
from support_rpc.memory import MemoryRpc
from support_rpc.server import Handler
from support_testkit import eventually
from support_testkit.plugin import RabbitNames

pytestmark = pytest.mark.integration

in_flight = 0
most_in_flight = 0


async def echo(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
    global in_flight, most_in_flight
    if command_type == "Refuse":
        raise Refusal(409, "session_ended", "the session has ended")
    if command_type == "RefuseByRule":  # a service's rules refuse by kind
        raise StateForbids("session_limit", "you already run a live session")
    if command_type == "Crash":
        raise RuntimeError("bug")
    in_flight += 1
    most_in_flight = max(most_in_flight, in_flight)
    await asyncio.sleep(command.get("wait", 0))
    in_flight -= 1
    return {"echo": command}


@dataclass
class Transport:
    server: Callable[[str, Handler], Any]  # a server of the queue, not started
    client: Callable[[], Any]  # a client, not connected
    queue: Callable[[str], str]


@pytest.fixture(params=["rabbitmq", "memory"])
def transport(request: pytest.FixtureRequest) -> Transport:
    if request.param == "memory":
        memory = MemoryRpc()
        return Transport(memory.server, memory.client, lambda name: name)
    url: str = request.getfixturevalue("amqp_url")
    names: RabbitNames = request.getfixturevalue("rabbit_names")
    return Transport(lambda q, h: RpcServer(url, q, h), lambda: RpcClient(url), names.queue)


@pytest_asyncio.fixture
async def rpc(transport: Transport) -> AsyncIterator[tuple[Any, str]]:
    queue = transport.queue("commands")
    server = await transport.server(queue, echo).start()
    client = await transport.client().connect()
    yield client, queue
    await client.close()
    await server.stop()


async def test_many_requests_are_in_flight_at_once(rpc: tuple[Any, str]) -> None:
    client, queue = rpc
    calls = [client.call(queue, "Echo", {"n": n, "wait": 0.2}) for n in range(20)]
    replies = await asyncio.gather(*calls)
    assert [r["echo"]["n"] for r in replies] == list(range(20))
    assert most_in_flight >= 10  # one client, one connection: not one request at a time


async def test_a_refusal_comes_back_as_the_same_refusal(rpc: tuple[Any, str]) -> None:
    client, queue = rpc
    with pytest.raises(Refusal) as refused:
        await client.call(queue, "Refuse", {})
    assert (refused.value.status, refused.value.code) == (409, "session_ended")
    with pytest.raises(Refusal) as by_rule:  # issue 15.5: one type, whoever raised it
        await client.call(queue, "RefuseByRule", {})
    assert (by_rule.value.status, by_rule.value.code) == (409, "session_limit")
    assert by_rule.value.message == "you already run a live session"
    with pytest.raises(Refusal) as crashed:
        await client.call(queue, "Crash", {})
    assert (crashed.value.status, crashed.value.code) == (500, "internal")


async def test_a_request_that_is_not_one_is_answered_bad_request(
    rabbit_names: RabbitNames, amqp_url: str
) -> None:
    queue = rabbit_names.queue("commands")
    server = await RpcServer(amqp_url, queue, echo).start()
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    replies = await channel.declare_queue(exclusive=True)
    await channel.default_exchange.publish(
        aio_pika.Message(b"not json", reply_to=replies.name, correlation_id="x"), queue
    )
    async with replies.iterator() as messages:
        async for message in messages:
            assert b'"bad_request"' in message.body
            await message.ack()
            break
    await connection.close()
    await server.stop()


async def test_in_one_process_a_request_that_is_not_one_is_answered_bad_request_too() -> None:
    server = await MemoryRpc().server("commands", echo).start()
    reply = await server.answer(b"not json")
    assert (reply["ok"], reply["error"]["code"]) == (False, "bad_request")


async def test_in_one_process_no_answer_in_time_is_a_timeout() -> None:
    client = await MemoryRpc().client().connect()
    with pytest.raises(RpcTimeout, match="did not answer"):
        await client.call("nobody", "Echo", {}, within_seconds=0.3)


async def test_no_answer_in_time_is_a_timeout_and_the_request_expires(
    amqp_url: str, rabbit_names: RabbitNames
) -> None:
    client = await RpcClient(amqp_url).connect()
    queue = rabbit_names.queue("nobody")
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    declared = await channel.declare_queue(
        queue, durable=True, arguments={"x-queue-type": "quorum"}
    )
    with pytest.raises(RpcTimeout, match="did not answer"):
        await client.call(queue, "Echo", {}, within_seconds=0.3)
    await asyncio.sleep(0.5)
    assert await declared.get(fail=False) is None  # expired, never to be run late
    await connection.close()
    await client.close()


async def test_a_request_made_before_the_service_starts_waits_for_it(
    transport: Transport,
) -> None:
    client = await transport.client().connect()
    queue = transport.queue("late")
    call = asyncio.create_task(client.call(queue, "Echo", {"n": 1}, within_seconds=10))
    await asyncio.sleep(0.3)  # the request is in the queue; nobody serves it yet
    assert not call.done()
    server = await transport.server(queue, echo).start()
    assert (await call)["echo"] == {"n": 1}
    await server.stop()
    await client.close()


async def test_a_stopping_server_answers_the_requests_in_hand_and_takes_no_new_ones(
    transport: Transport,
) -> None:
    queue = transport.queue("draining")
    done: list[int] = []
    in_hand: list[int] = []

    async def slow(command_type: str, command: dict[str, Any]) -> dict[str, Any]:
        in_hand.append(command["n"])
        await asyncio.sleep(0.3)
        done.append(command["n"])
        return {"n": command["n"]}

    server = await transport.server(queue, slow).start()
    client = await transport.client().connect()
    try:
        calls = [asyncio.create_task(client.call(queue, "Slow", {"n": n})) for n in range(5)]
        await eventually(lambda: len(in_hand) == 5, what="all five in hand")
        await server.stop()
        assert [r["n"] for r in await asyncio.gather(*calls)] == list(range(5))
        assert sorted(done) == list(range(5))
        with pytest.raises(RpcTimeout):  # nobody takes requests any more
            await client.call(queue, "Slow", {"n": 9}, within_seconds=0.5)
    finally:
        await client.close()
