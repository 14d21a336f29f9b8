"""The gateway's ASGI app: the routes of ``gateway.routes`` under ``/v1``, the error answers,
the correlation id and server span of every request, and the consoles' pages (issue 16)."""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import FastAPI
from opentelemetry import propagate, trace
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from gateway import consoles, errors
from gateway.asgi import HttpLayer
from gateway.calls import CORRELATION
from gateway.openapi import document
from gateway.routes import v1
from gateway.routes.common import Gateway, Reply

TRACER = trace.get_tracer("gateway")


class Correlation(HttpLayer):
    """The request's correlation id, given (``X-Correlation-Id``) or new, on every command it
    sends and on its answer, and its server span (plain ASGI: Starlette's middleware cost 13% of
    the gateway's CPU, measured)."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        given = headers.get("x-correlation-id")
        try:
            correlation_id = UUID(given) if given is not None else uuid4()  # "" is no UUID
        except ValueError:
            invalid = errors.error_response(422, "invalid", "X-Correlation-Id is a UUID")
            await invalid(scope, receive, send)
            return
        CORRELATION.set(correlation_id)
        echoed = (b"x-correlation-id", str(correlation_id).encode())

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), echoed]}
            await send(message)

        span = TRACER.start_as_current_span(
            f"{scope['method']} {scope['path']}",
            context=propagate.extract(headers),  # the caller's traceparent, if any
            kind=trace.SpanKind.SERVER,
            attributes={"correlation_id": str(correlation_id)},
        )
        with span:
            await self.app(scope, receive, answering)


def create_app(gw: Gateway | None) -> FastAPI:
    """The app serving ``gw`` (None: an app only for its ``/openapi.json``)."""
    app = FastAPI(
        title="Support center gateway",
        version="1",
        description="The HTTP API for consoles and customer pages (CONTRACT.md).",
        generate_unique_id_function=lambda route: route.name,  # start_session, join, ...
    )
    app.state.gateway = gw
    errors.install(app)
    app.include_router(v1)
    app.add_middleware(errors.NoNul)
    app.add_middleware(Correlation)
    app.openapi = lambda: document(app)  # type: ignore[method-assign]

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> Reply:
        return {"ok": True}

    consoles.install(app)
    return app


__all__ = ["Gateway", "create_app"]
