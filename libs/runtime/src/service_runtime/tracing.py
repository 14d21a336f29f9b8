"""Traces, when ops want them: with ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, spans go over
OTLP/HTTP to that collector, named by ``OTEL_SERVICE_NAME``; without it nothing is recorded
(the trace context a request brings still passes on to the services it calls)."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def configure_tracing(default_name: str) -> TracerProvider | None:
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    name = os.environ.get("OTEL_SERVICE_NAME", default_name)
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads OTEL_* itself
    trace.set_tracer_provider(provider)
    return provider
