"""Idempotency keys on an app of the test's own (in memory, a fake clock): a retry gets the
first answer and runs nothing again; another body is 422; a failure (5xx) may be retried; a
claim left by a gateway that died lapses; a key is new again after a day."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from aiormq.exceptions import ChannelInvalidStateError
from starlette.types import Receive, Scope, Send

from eventlog import InMemoryEventStore
from gateway.calls import stamped
from gateway.errors import LastResort
from gateway.idempotency import Idempotency
from support_contracts.session import JoinAsCustomer
from support_testkit.clock import FakeClock
from support_testkit.waiting import eventually


class Counting:
    """An app that counts what it was asked to do, and fails while told to."""

    def __init__(self) -> None:
        self.runs = 0
        self.failing = False
        self.hanging: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = (await receive())["body"]
        self.runs += 1
        if self.hanging is not None:
            await self.hanging.wait()
        status = 503 if self.failing else 201
        answer = json.dumps({"run": self.runs, "asked": json.loads(body or b"{}")}).encode()
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app() -> Counting:
    return Counting()


@pytest.fixture
def client(app: Counting, clock: FakeClock) -> httpx.AsyncClient:
    guarded = Idempotency(app, InMemoryEventStore(), stale_seconds=60, clock=clock.now)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://gw")


async def post(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/sessions", json=body, headers={"Idempotency-Key": key})


async def test_a_retry_gets_the_first_answer_and_nothing_runs_twice(
    client: httpx.AsyncClient, app: Counting
) -> None:
    first, again = await post(client, "k", {"a": 1}), await post(client, "k", {"a": 1})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() == {"run": 1, "asked": {"a": 1}}
    assert again.headers["idempotent-replayed"] == "true" and app.runs == 1
    other = await post(client, "k", {"a": 2})
    assert (other.status_code, other.json()["error"]["code"]) == (422, "key_reused")
    assert (await post(client, "another", {"a": 1})).json()["run"] == 2


async def test_a_request_that_got_no_answer_may_be_retried(
    client: httpx.AsyncClient, app: Counting
) -> None:
    app.failing = True
    assert (await post(client, "k", {})).status_code == 503
    app.failing = False
    retried = await post(client, "k", {})
    assert (retried.status_code, retried.json()["run"]) == (201, 2)


async def test_a_claim_left_by_a_gateway_that_died_lapses(
    client: httpx.AsyncClient, app: Counting, clock: FakeClock
) -> None:
    app.hanging = asyncio.Event()
    dying = asyncio.create_task(post(client, "k", {}))
    await eventually(lambda: app.runs == 1, what="the request in hand")
    dying.cancel()  # the gateway died with the request in hand: its claim stays
    app.hanging = None
    busy = await post(client, "k", {})
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "in_progress")
    clock.advance(61)
    retried = await post(client, "k", {})
    assert (retried.status_code, retried.json()["run"]) == (201, 2)


async def test_a_key_is_new_again_after_a_day(
    client: httpx.AsyncClient, app: Counting, clock: FakeClock
) -> None:
    await post(client, "k", {"a": 1})
    clock.advance(23 * 3600)
    assert (await post(client, "k", {"a": 1})).json()["run"] == 1  # still the first answer
    clock.advance(2 * 3600)
    later = await post(client, "k", {"a": 2})  # past a day: another request may use it
    assert (later.status_code, later.json()["run"]) == (201, 2)


async def test_a_get_is_never_kept(client: httpx.AsyncClient, app: Counting) -> None:
    for _ in range(2):
        await client.get("/v1/sessions/x", headers={"Idempotency-Key": "k"})
    assert app.runs == 2


class Sending(Counting):
    """An app that notes the command id it would send, and may raise instead of answering
    (a channel that broke under it)."""

    def __init__(self) -> None:
        super().__init__()
        self.command_ids: list[str] = []
        self.raising: Exception | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        joining = {"session_number": "123456789", "name": "Dana"}
        self.command_ids.append(stamped(None, JoinAsCustomer, joining).command_id)
        if self.raising is not None:
            await receive()
            raise self.raising
        await super().__call__(scope, receive, send)


async def test_a_request_run_again_sends_the_same_command_ids(clock: FakeClock) -> None:
    """Issue 13.3: a run after a stale claim (the first gateway died) sent new command ids, so
    session-svc applied the join twice; now the ids derive from the key."""
    app, store = Sending(), InMemoryEventStore()
    guarded = Idempotency(app, store, stale_seconds=20, clock=clock.now)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded), base_url="http://gw"
    ) as client:
        app.hanging = asyncio.Event()
        dying = asyncio.create_task(post(client, "k", {}))
        await eventually(lambda: app.runs == 1, what="the first run under way")
        clock.advance(21)  # the first gateway is gone: its claim is stale
        app.hanging = None
        assert (await post(client, "k", {})).status_code == 201
        dying.cancel()
        await asyncio.gather(dying, return_exceptions=True)
        assert (await post(client, "other", {})).status_code == 201
    first, rerun, other = app.command_ids
    assert first == rerun != other


async def test_a_request_that_raised_closes_its_claim_and_answers_503(clock: FakeClock) -> None:
    """Issue 13.5: a request whose channel broke answered a bare 500 and left its claim open,
    so every retry was told 409 in_progress."""
    app = Sending()
    guarded = LastResort(Idempotency(app, InMemoryEventStore(), clock=clock.now))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded, raise_app_exceptions=False),
        base_url="http://gw",
    ) as client:
        app.raising = ChannelInvalidStateError("writer is None")
        broken = await post(client, "k", {})
        assert broken.status_code == 503
        assert broken.json()["error"]["code"] == "unavailable"
        assert broken.headers["retry-after"]
        app.raising = None
        retried = await post(client, "k", {})
        assert retried.status_code == 201


async def test_the_idempotency_log_down_is_a_503_with_the_error_body() -> None:
    class Down(InMemoryEventStore):
        async def read_stream(self, stream_id: str, from_version: int = 0) -> Any:
            raise ConnectionRefusedError(111, "the database does not answer")

    guarded = LastResort(Idempotency(Counting(), Down()))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=guarded, raise_app_exceptions=False),
        base_url="http://gw",
    ) as client:
        answer = await post(client, "k", {})
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "unavailable"
