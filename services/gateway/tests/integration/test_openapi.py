"""The OpenAPI document: every route of the contract, how to call each, and a named model for
what comes back (issue 14.13)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

CONTRACT_ROUTES = """
POST /v1/sessions
GET /v1/sessions/{session_id}
GET /v1/sessions/{session_id}/events
POST /v1/sessions/{session_id}/heartbeat
POST /v1/sessions/{session_id}/invitations
POST /v1/join
POST /v1/assist
POST /v1/sessions/{session_id}/active-customer
POST /v1/sessions/{session_id}/control
POST /v1/sessions/{session_id}/handoff
POST /v1/sessions/{session_id}/leave
POST /v1/sessions/{session_id}/end
GET /v1/admin/site
PUT /v1/admin/site
POST /v1/admin/queues
PUT /v1/admin/agents/{agent_id}
PUT /v1/agents/me/status
GET /v1/agents/me/offers
POST /v1/offers/{offer_id}/accept
POST /v1/offers/{offer_id}/decline
POST /v1/queues/{queue_id}/requests
GET /v1/queues/{queue_id}/requests/{request_id}
GET /v1/sessions/{session_id}/live
"""


async def test_the_openapi_document_describes_every_route_of_the_contract(
    api: httpx.AsyncClient,
) -> None:
    document = (await api.get("/openapi.json")).json()
    described = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    contract = {tuple(line.split()) for line in CONTRACT_ROUTES.strip().splitlines()}
    assert contract <= described, contract - described
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/v1/"):
                errors = set(operation["responses"]) & {"401", "403", "404", "409", "422", "503"}
                assert errors, f"{method} {path} documents no error"
    error = document["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorBody")


async def test_issue_14_13_the_document_says_how_to_call_and_what_comes_back(
    api: httpx.AsyncClient,
) -> None:
    """A bearer scheme, not an ``authorization`` parameter; a named model for every answer;
    readable operation ids, each once; the headers, the 400 and the one-of rules; the 422 the
    gateway really answers; and credentials checked before the body."""
    document = (await api.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in schemas
    ids = [
        o["operationId"] for operations in document["paths"].values() for o in operations.values()
    ]
    assert len(ids) == len(set(ids)), "operation ids twice"  # a generated client's method names
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            named = f"{method} {path}"
            assert "_v1_" not in operation["operationId"], named
            parameters = {p["name"].lower() for p in operation.get("parameters", [])}
            assert "authorization" not in parameters and "x-correlation-id" in parameters, named
            assert ("idempotency-key" in parameters) is (method in ("post", "put")), named
            anyone = ("/v1/queues/{queue_id}/requests", "/v1/dev/sign-in", "/v1/sign-in")
            if path not in anyone:
                assert {"HTTPBearer": []} in operation["security"], named
            if "422" in operation["responses"]:
                refused = operation["responses"]["422"]["content"]["application/json"]
                assert refused["schema"]["$ref"].endswith("/Error"), named
            if "requestBody" in operation:
                assert "400" in operation["responses"], named
            if path.endswith("/live"):
                continue
            ok = next(
                operation["responses"][s] for s in ("200", "201") if s in operation["responses"]
            )
            assert ok["content"]["application/json"]["schema"]["$ref"], named
    assert {"token", "session_number"} == {
        next(iter(rule["required"])) for rule in schemas["JoinBody"]["oneOf"]
    }
    assert len(schemas["HandoffBody"]["oneOf"]) == 2
    assert schemas["Session"]["properties"]["status"]["enum"] == ["new", "live", "waiting", "ended"]
    # no token and a bad body: 401, not 422; a body that is not JSON: 400
    anonymous = await api.post("/v1/sessions", json={"email_invite": "not a bool"})
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "no_credentials")
    broken = await api.post(
        "/v1/join", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.json()["error"]["code"]) == (400, "bad_json")
