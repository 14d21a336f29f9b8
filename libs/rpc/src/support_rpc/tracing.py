"""Trace context across RabbitMQ (W3C ``traceparent``/``tracestate`` in the message headers):
a request carries its caller's trace, and the service's span for it continues that trace.

Only the OpenTelemetry API here: with no SDK configured (``service_runtime.tracing``) the
spans record nothing, and the context still passes through unchanged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context

tracer = trace.get_tracer("support_rpc")


def outgoing() -> dict[str, str]:
    """The current trace context, as headers for a message."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def incoming(headers: Mapping[str, Any] | None) -> Context:
    """The trace context a message carries (an empty one when it carries none)."""
    return propagate.extract({key: str(value) for key, value in (headers or {}).items()})
