"""``/openapi.json`` as the gateway really behaves (issue 14.13), over what FastAPI makes of
the routes: the headers every request may carry (``X-Correlation-Id``; ``Idempotency-Key`` on
POST and PUT), the 400 of a body that is not JSON and the 422 of a request that is not valid,
both with the error body the gateway answers (not FastAPI's ``HTTPValidationError``), the time
zones a queue may have, and joining anonymously or signed in."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.errors import ERRORS

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
CORRELATION = {
    "name": "X-Correlation-Id",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "format": "uuid"},
    "description": "Carried on every command the request sends and every event it causes;"
    " echoed in the response (a new one when not given).",
}
IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    "description": "The same key (by the same caller) within a day: the first answer again"
    " (`Idempotent-Replayed: true`), the request run once; another body is 422 `key_reused`,"
    " one still running 409 `in_progress`.",
}
# the IANA time zones of the tzdata package in the lock (what routing-svc knows), so a client
# generated from the document offers no zone the service would refuse
TIME_ZONES = sorted((resources.files("tzdata") / "zones").read_text(encoding="utf-8").split())
ANYONE_OR_SIGNED_IN = {"join"}  # a customer joins anonymously; a csr's link needs its token


def document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for operations in schema["paths"].values():
        for method, operation in operations.items():
            parameters = operation.setdefault("parameters", [])
            parameters.append(CORRELATION)
            if method in ("post", "put"):
                parameters.append(IDEMPOTENCY)
            answers = operation["responses"]
            if "requestBody" in operation:
                answers["400"] = {"description": "the body is not JSON", "content": ERROR}
            # any request may carry an X-Correlation-Id that is not a UUID
            answers["422"] = {"description": ERRORS[422], "content": ERROR}
            if operation["operationId"] in ANYONE_OR_SIGNED_IN:
                operation["security"] = [{}, *operation.get("security", [])]
    offers = schema["paths"]["/v1/agents/me/offers"]["get"]["responses"]["200"]
    offers["links"] = {  # the id is in a list, where a link is not inferred
        name: {"operationId": name, "parameters": {"offer_id": "$response.body#/offers/0/offer_id"}}
        for name in ("accept", "decline")
    }
    _no_nul(schema)
    zone = schema["components"]["schemas"]["QueueDefinition"]["properties"]["time_zone"]
    zone["enum"] = TIME_ZONES
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
    app.openapi_schema = schema
    return schema


NO_NUL = "^[^\u0000]*$"  # issue 14.4: a NUL is refused in any field (PostgreSQL cannot keep it)


def _no_nul(node: Any) -> None:
    """Every free text of the document says it takes no NUL character."""
    if isinstance(node, dict):
        free = node.get("type") == "string" and not {"pattern", "format", "enum"} & set(node)
        if free:
            node["pattern"] = NO_NUL
        for value in node.values():
            _no_nul(value)
    elif isinstance(node, list):
        for value in node:
            _no_nul(value)
