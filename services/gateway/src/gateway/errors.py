"""Every error the API answers is ``{"error": {"code", "message"}}`` with a fitting status
(CONTRACT.md); a service that does not answer in time is a 503, never a hang or a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from support_rpc import RemoteError, RpcTimeout


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class ErrorBody(BaseModel):
    code: str
    message: str


class Error(BaseModel):
    """What every refusal looks like."""

    error: ErrorBody


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


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
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.code, error.message)

    @app.exception_handler(RemoteError)
    async def refused(request: Request, error: RemoteError) -> JSONResponse:
        status = error.status if 400 <= error.status < 500 else 503
        return error_response(status, error.code, error.message)

    @app.exception_handler(RpcTimeout)
    async def timeout(request: Request, error: RpcTimeout) -> JSONResponse:
        return error_response(503, "unavailable", f"try again shortly: {error}")

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        return error_response(422, "invalid", problems)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return error_response(error.status_code, "http", str(error.detail))
