"""The gateway's own behaviour: idempotency keys, a service that does not answer (503, never a
hang), staff tokens from a JWKS and every way a token is bad, live updates resumed after a
reconnect, and ``python -m gateway`` (the OpenAPI document in ``test_openapi``, supportctl in
``test_supportctl``)."""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import sys
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.bootstrap import GatewayService, start
from session_svc.bootstrap import SessionService
from support_testkit.plugin import RabbitNames, fresh_schema
from support_testkit.processes import http_get, start_service
from support_testkit.waiting import eventually

from .conftest import AUDIENCE, ISSUER, JWT_SECRET, bearer, gateway_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ALICE = bearer("alice", "csr")


async def test_a_retried_post_with_the_same_key_gets_the_first_answer_and_runs_once(
    api: httpx.AsyncClient,
) -> None:
    first = await api.post(
        "/v1/sessions", json={"email_invite": False}, headers={**ALICE, "Idempotency-Key": "k-1"}
    )
    again = await api.post(
        "/v1/sessions", json={"email_invite": False}, headers={**ALICE, "Idempotency-Key": "k-1"}
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    # a second start would have been refused: alice is a single-session csr (S2)
    refused = await api.post("/v1/sessions", json={"email_invite": False}, headers=ALICE)
    assert refused.status_code == 409
    other_body = await api.post(
        "/v1/sessions", json={"email_invite": True}, headers={**ALICE, "Idempotency-Key": "k-1"}
    )
    assert (other_body.status_code, other_body.json()["error"]["code"]) == (422, "key_reused")
    # the same key from another caller is another key
    bob = await api.post(
        "/v1/sessions",
        json={"email_invite": False},
        headers={**bearer("bob", "csr"), "Idempotency-Key": "k-1"},
    )
    assert bob.status_code == 201 and bob.json()["session_id"] != first.json()["session_id"]


async def test_the_correlation_id_given_is_on_the_answer_and_on_every_event_it_caused(
    api: httpx.AsyncClient,
) -> None:
    given = "6f1c3f1e-0d4b-4f7e-9a51-3c2d6a1b7e90"
    headers = {**bearer("carl", "csr"), "X-Correlation-Id": given}
    started = await api.post("/v1/sessions", json={"email_invite": False}, headers=headers)
    assert started.status_code == 201 and started.headers["x-correlation-id"] == given
    session = started.json()["session_id"]
    events = await api.get(f"/v1/sessions/{session}/events", headers=bearer("root", "admin"))
    assert [e["correlation_id"] for e in events.json()["events"]] == [given]
    new = await api.get(f"/v1/sessions/{session}", headers=bearer("carl", "csr"))
    assert UUID(new.headers["x-correlation-id"]) != UUID(given)  # none given: a new one
    bad = await api.get(f"/v1/sessions/{session}", headers={**headers, "X-Correlation-Id": "x"})
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid")


async def test_s9_making_a_csr_an_agent_keeps_its_session_mode(api: httpx.AsyncClient) -> None:
    """Issue 14.3: ``PUT /v1/admin/agents/{id}`` without ``session_mode`` made a multi-session
    csr single again, and its next start was refused ``session_limit``."""
    root, ann = bearer("root", "admin"), bearer("ann", "csr", "agent")
    multi = {"session_mode": "multi", "is_webacd_agent": False, "voice_supported": True}
    assert (await api.put("/v1/admin/csrs/ann", json=multi, headers=root)).status_code == 200
    agent = {"name": "Ann", "max_sessions": 2}
    assert (await api.put("/v1/admin/agents/ann", json=agent, headers=root)).status_code == 200
    for _ in range(2):  # multi-session still
        started = await api.post("/v1/sessions", json={"email_invite": False}, headers=ann)
        assert started.status_code == 201, started.text


async def test_a_nul_character_in_any_field_is_422_and_changes_nothing(
    api: httpx.AsyncClient,
) -> None:
    """Issue 14.4: U+0000 reached PostgreSQL and came back as a 503."""
    root, carl = bearer("root", "admin"), bearer("carl", "csr")
    started = await api.post("/v1/sessions", json={"email_invite": False}, headers=carl)
    session, number = started.json()["session_id"], started.json()["session_number"]
    nul = "Bob\x00by"
    refused = [
        ("POST", "/v1/join", {}, {"session_number": number, "name": nul}),
        ("POST", f"/v1/sessions/{session}/invitations", carl,
         {"role": "customer", "channel": "email", "to": f"{nul}@example.com"}),
        ("POST", f"/v1/sessions/{session}/control", carl, {"to": nul}),
        ("PUT", "/v1/admin/agents/ann", root, {"name": nul, "max_sessions": 1}),
        ("PUT", "/v1/admin/agents/a%00n", root, {"name": "Ann", "max_sessions": 1}),
        ("GET", f"/v1/sessions/{session}?x=%00", carl, None),
    ]  # fmt: skip
    for method, path, headers, body in refused:
        answer = await api.request(method, path, json=body, headers=headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (422, "invalid"), path
    events = await api.get(f"/v1/sessions/{session}/events", headers=root)
    assert [e["type"] for e in events.json()["events"]] == ["SessionStarted"]
    unknown = await api.get("/v1/agents/me/offers", headers=bearer("ann", "agent"))
    assert unknown.status_code == 404  # ann was never configured


async def test_a_retry_with_a_refreshed_token_is_the_same_request(api: httpx.AsyncClient) -> None:
    """Issue 14.6: the key was bound to the raw header, so a client that refreshed its token
    between two tries ran the command twice."""
    first_token, refreshed = bearer("dora", "csr", ttl=600), bearer("dora", "csr", ttl=900)
    assert first_token != refreshed
    body, key = {"email_invite": False}, {"Idempotency-Key": "refreshed-1"}
    first = await api.post("/v1/sessions", json=body, headers={**first_token, **key})
    again = await api.post("/v1/sessions", json=body, headers={**refreshed, **key})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"


async def test_a_refusal_is_kept_for_its_key_too(api: httpx.AsyncClient) -> None:
    headers = {**ALICE, "Idempotency-Key": "end-unknown"}
    path = "/v1/sessions/00000000-0000-4000-8000-000000000000/end"
    first, again = await api.post(path, headers=headers), await api.post(path, headers=headers)
    assert first.status_code == again.status_code == 404
    assert again.json() == first.json()


async def test_two_requests_with_one_key_at_once_run_once(api: httpx.AsyncClient) -> None:
    headers = {**bearer("carl", "csr"), "Idempotency-Key": "together"}
    answers = await asyncio.gather(
        *(api.post("/v1/sessions", json={"email_invite": False}, headers=headers) for _ in range(5))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}
    started = {a.json()["session_id"] for a in answers if a.status_code == 201}
    assert len(started) == 1  # one session, whatever the others were told


@asynccontextmanager
async def gateway_where(
    database_url: str, amqp_url: str, names: RabbitNames, **overrides: object
) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway of the test's own, with ``overrides`` to its settings, and a client of it."""
    async with fresh_schema(database_url) as schema:
        service = await start(gateway_settings(amqp_url, database_url, schema, names, **overrides))
        try:
            async with httpx.AsyncClient(base_url=service.url, timeout=10) as client:
                yield client
        finally:
            await service.stop()


async def test_a_service_that_does_not_answer_is_a_503_in_time(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames
) -> None:
    nobody = rabbit_names.queue("nobody-consumes")
    async with gateway_where(
        database_url, amqp_url, rabbit_names, routing_commands=nobody, request_timeout_seconds=0.5
    ) as client:
        began = time.monotonic()
        response = await client.get("/v1/agents/me/offers", headers=bearer("zoe", "agent"))
        assert time.monotonic() - began < 3
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.headers["retry-after"]


@pytest.mark.parametrize(
    ("token_args", "code"),
    [
        ({"ttl": -10}, "expired_token"),
        ({"secret": "another-secret-that-is-long-enough!"}, "bad_token"),
        ({"audience": "someone-else"}, "bad_token"),
        ({"issuer": "evil-idp"}, "bad_token"),
    ],
)
async def test_e1_a_bad_staff_token_is_401(
    api: httpx.AsyncClient, token_args: dict[str, Any], code: str
) -> None:
    response = await api.get("/v1/admin/site", headers=bearer("root", "admin", **token_args))
    assert (response.status_code, response.json()["error"]["code"]) == (401, code)
    missing = await api.get("/v1/admin/site")
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "no_credentials")
    garbage = await api.get("/v1/admin/site", headers={"Authorization": "Bearer not.a.jwt"})
    assert garbage.status_code == 401


@pytest.mark.parametrize("source", ["file", "url"])
async def test_e1_staff_tokens_signed_by_an_identity_provider_s_key_from_a_jwks(
    database_url: str,
    amqp_url: str,
    rabbit_names: RabbitNames,
    services: None,
    tmp_path: Path,
    source: str,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig"}]}))
    claims = {"sub": "root", "roles": ["admin"], "iss": ISSUER, "aud": AUDIENCE}
    now = int(time.time())
    signed = jwt.encode({**claims, "exp": now + 60}, key, "RS256", headers={"kid": "k1"})
    hs = jwt.encode({**claims, "exp": now + 60}, JWT_SECRET, "HS256")  # the dev secret: not here
    keys: dict[str, object] = {"jwks_file": tmp_path / "jwks.json"}
    server = None
    if source == "url":  # the identity provider's JWKS endpoint, over HTTP
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        keys = {"jwks_url": f"http://127.0.0.1:{server.server_address[1]}/jwks.json"}
    async with fresh_schema(database_url) as schema:
        settings = gateway_settings(
            amqp_url, database_url, schema, rabbit_names, jwt_secret=None, **keys
        )
        service = await start(settings)
        try:
            async with httpx.AsyncClient(base_url=service.url) as client:
                good = await client.get(
                    "/v1/admin/site", headers={"Authorization": f"Bearer {signed}"}
                )
                bad = await client.get("/v1/admin/site", headers={"Authorization": f"Bearer {hs}"})
        finally:
            await service.stop()
            if server is not None:
                server.shutdown()
    assert good.status_code == 200, good.text
    assert bad.status_code == 401


async def test_live_updates_resume_after_the_last_event_id(
    api: httpx.AsyncClient, gateway: GatewayService
) -> None:
    started = (await api.post("/v1/sessions", json={"email_invite": False}, headers=ALICE)).json()
    session_id = started["session_id"]
    await api.post("/v1/join", json={"session_number": started["session_number"], "name": "Carol"})
    got: list[dict[str, Any]] = []

    async def read(last_event_id: int) -> None:
        headers = {**ALICE, "Last-Event-ID": str(last_event_id)}
        async with httpx.AsyncClient(base_url=gateway.url, timeout=30) as client:
            path = f"/v1/sessions/{session_id}/live"
            async with client.stream("GET", path, headers=headers) as stream:
                async for line in stream.aiter_lines():
                    if line.startswith("data: "):
                        got.append(json.loads(line[6:]))
                        if got[-1]["type"] == "SessionEnded":
                            return

    reading = asyncio.create_task(read(0))  # the client had seen version 0 before it dropped
    # the history first (from the log); only the end that follows comes through live delivery
    await eventually(lambda: any(e["type"] == "CustomerJoined" for e in got), what="history")
    await api.post(f"/v1/sessions/{session_id}/end", headers=ALICE)
    await asyncio.wait_for(reading, 20)
    versions = [e["stream_version"] for e in got]
    assert versions == list(range(1, len(got) + 1))
    assert got[0]["type"] == "CustomerJoined" and got[-1]["type"] == "SessionEnded"


async def test_bad_settings_stop_the_gateway_with_one_line_naming_them() -> None:
    """Issue 14.12: not a pydantic traceback."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway",
        env={**os.environ, "JWT_SECRET": "short", "PARTICIPANT_TOKEN_SECRET": "x" * 32},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    output, errors = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1 and not output
    [line] = errors.decode().splitlines()
    assert line.startswith("gateway: not started, its settings are not valid: JWT_SECRET: ")
    assert "at least 32 characters" in line


async def test_the_gateway_process_answers_and_stops_on_sigterm(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, services: None
) -> None:
    async with fresh_schema(database_url) as schema:
        config = gateway_settings(amqp_url, database_url, schema, rabbit_names)
        gateway = await start_service("gateway", config.as_environment(), until="ops.listening")
        try:
            url = f"http://127.0.0.1:{gateway.first('gateway.started')['port']}"
            async with httpx.AsyncClient(base_url=url) as client:
                assert (await client.get("/healthz")).json() == {"ok": True}
                started = await client.post(
                    "/v1/sessions", json={"email_invite": False}, headers=ALICE
                )
                assert started.status_code == 201
            ops = gateway.first("ops.listening")["port"]
            assert (await http_get(ops, "/readyz"))[0] == 200
        finally:
            code = await gateway.terminate()
        gateway.assert_stopped_cleanly(code)


async def test_a_start_answers_with_its_session_when_the_draft_cannot_be_had(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, session_svc: SessionService
) -> None:
    """Issue 13.4: with invite-svc down, a start answered 503 although the session was started,
    and the retry with the same key was refused session_limit. Now the answer is the session,
    its draft pending, and the retry returns the same session."""
    nobody = rabbit_names.queue("nobody-consumes")
    async with gateway_where(
        database_url, amqp_url, rabbit_names, invite_commands=nobody, request_timeout_seconds=1.0
    ) as client:
        headers = bearer("alice", "csr") | {"Idempotency-Key": "start-1"}
        body = {"email_invite": True}
        first = await client.post("/v1/sessions", json=body, headers=headers)
        again = await client.post("/v1/sessions", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert first.json()["draft"] is None and first.json()["draft_pending"] is True
    assert again.status_code == 201
    assert again.json()["session_id"] == first.json()["session_id"]
