"""E3: a request's trace goes across RabbitMQ: the gateway continues the caller's
``traceparent``, and the services' spans for the commands it sends are its children."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from support_testkit.waiting import eventually

from .conftest import bearer

pytestmark = pytest.mark.integration

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def recording() -> None:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the process's first: set it once
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))


async def test_e3_the_callers_trace_goes_on_through_rabbitmq_to_every_service(
    api: httpx.AsyncClient,
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    parent = "00f067aa0ba902b7"
    headers = {**bearer("alice", "csr"), "traceparent": f"00-{trace_id}-{parent}-01"}
    started = await api.post("/v1/sessions", json={"email_invite": True}, headers=headers)
    assert started.status_code == 201, started.text

    def spans_of_the_trace() -> dict[str, object] | None:
        spans = {
            s.name: s
            for s in EXPORTER.get_finished_spans()
            if f"{s.context.trace_id:032x}" == trace_id
        }
        wanted = ("POST /v1/sessions", "StartSession", "IssueInvitation")
        return spans if all(any(w in name for name in spans) for w in wanted) else None

    spans = await eventually(spans_of_the_trace, what="the spans of the request's trace")
    assert spans is not None
    gateway = spans["POST /v1/sessions"]
    assert f"{gateway.parent.span_id:016x}" == parent  # type: ignore[attr-defined]
    for name, span in spans.items():
        if "StartSession" in name or "IssueInvitation" in name:
            assert span.kind is trace.SpanKind.SERVER
            assert span.parent is not None  # type: ignore[attr-defined]
    # the service's span came over RabbitMQ (a remote parent) from a span of the gateway's
    start = next(s for n, s in spans.items() if n.endswith("StartSession"))
    assert start.parent.is_remote  # type: ignore[attr-defined]
    gateway_side = {s.context.span_id for n, s in spans.items() if "StartSession" not in n}
    assert start.parent.span_id in gateway_side  # type: ignore[attr-defined]
