"""Every error the API answers is ``{"error": {"code", "message"}}`` with a fitting status
(CONTRACT.md); a service that does not answer in time is a 503, never a hang or a 500."""

from __future__ import annotations

import json

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import Message, Receive, Scope, Send

from eventlog.outages import is_outage
from gateway.asgi import HttpLayer, read_body, replaying
from support_contracts.refusals import Refusal
from support_rpc import RpcTimeout

log = structlog.get_logger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    """What every refusal looks like."""

    error: ErrorBody


RETRY_AFTER_SECONDS = 2


def error_response(status: int, code: str, message: str) -> JSONResponse:
    """A 503 says when to try again (``Retry-After``)."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def unexpected(error: BaseException, path: str) -> JSONResponse:
    """What an error no handler expected is answered with: an outage (the broker or the
    database not answering) is a 503 to retry, anything else a 500 (a bug: logged as an error,
    with its traceback), both with the error body."""
    if is_outage(error):
        log.warning("gateway.unavailable", error=repr(error), path=path)
        return error_response(
            503, "unavailable", "a part of the service is not answering; try again shortly"
        )
    log.error("gateway.failed", error=repr(error), path=path, exc_info=error)
    return error_response(500, "internal", "the gateway failed; the error is logged")


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NoNul(HttpLayer):
    """Issue 14.4: a NUL character (U+0000) in the path, the query or any string of a JSON
    body is refused here, 422 ``invalid``: PostgreSQL cannot store it in text, and nothing a
    person types holds one."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = "\x00" in scope["path"] or b"%00" in scope.get("query_string", b"")
        body = b""
        if not refused and scope["method"] in ("POST", "PUT", "PATCH"):
            body = await read_body(receive)
            # JSON can only spell U+0000 as \u0000: a body without it needs no parsing here
            if b"\\u0000" in body:
                try:
                    refused = _has_nul(json.loads(body))
                except (ValueError, RecursionError):
                    pass  # not JSON (or nested past reason): the route's validation says so
            receive = replaying(body)
        if refused:
            message = "a NUL character (U+0000) cannot be part of any field"
            await error_response(422, "invalid", message)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class LastResort(HttpLayer):
    """The outermost layer: an error raised before any answer was sent (the idempotency log's
    database down, say) still gets an answer with the error body, never a bare 500."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:
            if started:  # the answer went out; what failed after it (its record) is logged
                failed = log.warning if is_outage(error) else log.error
                failed("gateway.failed_after_answer", error=repr(error), path=scope.get("path"))
                raise
            await unexpected(error, str(scope.get("path")))(scope, receive, send)


ERRORS = {
    400: "bad input",
    401: "no or bad credentials",
    403: "not allowed for this caller",
    404: "unknown",
    409: "the state forbids it (ended session, limit reached, version conflict, key in use)",
    422: "bad input",
    503: "a service did not answer in time",
}


def responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The error responses of a route, for the OpenAPI document."""
    return {s: {"model": Error, "description": ERRORS[s]} for s in statuses}


def install(app: FastAPI) -> None:
    @app.exception_handler(Refusal)
    async def refused(request: Request, error: Refusal) -> JSONResponse:
        """The gateway's own refusals and the services' alike; a service that failed (5xx) is
        a 503 to try again."""
        status = error.status if 400 <= error.status < 500 else 503
        return error_response(status, error.code, error.message)

    @app.exception_handler(RpcTimeout)
    async def timeout(request: Request, error: RpcTimeout) -> JSONResponse:
        return error_response(503, "unavailable", f"try again shortly: {error}")

    @app.exception_handler(Exception)
    async def failed(request: Request, error: Exception) -> JSONResponse:
        return unexpected(error, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            return error_response(400, "bad_json", "the body is not JSON")  # issue 14.13
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return error_response(422, "invalid", problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        answer = error_response(error.status_code, "http", str(error.detail))
        answer.headers.update(error.headers or {})
        if error.status_code == 405:  # RFC 9110: Allow lists every method of the resource
            answer.headers["Allow"] = ", ".join(_methods(request))
        return answer


def _methods(request: Request) -> list[str]:
    """Every method some route takes at this path (one route per method here)."""
    path = request.url.path
    return sorted(
        method
        for route in request.app.routes
        if isinstance(route, APIRoute) and route.path_regex.match(path)
        for method in route.methods or ()
    )
