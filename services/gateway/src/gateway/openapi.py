"""``/openapi.json`` as the gateway really behaves (issue 14.13), over what FastAPI makes of
the routes: the headers every request may carry (``X-Correlation-Id``; ``Idempotency-Key`` on
POST and PUT), the 400 of a body that is not JSON and the 422 of one that is not valid, both
with the error body the gateway answers (not FastAPI's ``HTTPValidationError``), and joining
anonymously or signed in."""

from __future__ import annotations

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
            if "422" in answers:
                answers["422"] = {"description": ERRORS[422], "content": ERROR}
            if operation["operationId"] in ANYONE_OR_SIGNED_IN:
                operation["security"] = [{}, *operation.get("security", [])]
    for unused in ("HTTPValidationError", "ValidationError"):
        schema["components"]["schemas"].pop(unused, None)
    app.openapi_schema = schema
    return schema
