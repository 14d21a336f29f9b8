"""E2: the checked-in AsyncAPI document is the one the code generates, it names every event
type on the ``support.events`` exchange with its envelope, and the official parser reads it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from eventlog.asyncapi import render
from support_contracts import EXCHANGE, Envelope
from support_contracts.catalog import EVENTS
from support_testkit.npm import npm_tools

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"
SCRIPT = Path(__file__).with_name("parse_asyncapi.mjs")


def test_e2_the_checked_in_asyncapi_document_matches_the_code() -> None:
    assert CHECKED_IN.read_text() == render(), (
        "docs/asyncapi.json is out of date: run `make asyncapi` and commit it"
    )


def test_e2_every_event_type_is_a_channel_on_the_exchange_with_its_envelope() -> None:
    document = json.loads(render())
    for event in EVENTS.classes():
        channel = document["channels"][event.routing_key()]
        assert channel["bindings"]["amqp"]["exchange"]["name"] == EXCHANGE
        envelope = document["components"]["schemas"][f"{event.__name__}Envelope"]
        assert envelope["properties"]["data"]["$ref"].endswith(f"/{event.__name__}")
        assert {"event_id", "stream_version", "global_position"} <= set(envelope["required"])


def test_e2_the_official_parser_reads_the_document_with_no_error_or_warning() -> None:
    """Issue 14.14: ``@asyncapi/parser`` (from the npm registry) parses it and says nothing
    worse than information (Spectral's severities: 0 error, 1 warning, 2 information)."""
    tools = npm_tools("support-center-asyncapi", ["@asyncapi/parser@3.6.6"], SCRIPT)
    ran = subprocess.run(["node", str(tools / SCRIPT.name), str(CHECKED_IN)],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-2000:]
    *diagnostics, outcome = [json.loads(line) for line in ran.stdout.splitlines()]
    assert outcome == {"parsed": True}
    assert [d for d in diagnostics if d["severity"] < 2] == []


def test_e2_every_operation_is_persistent_and_names_where_the_correlation_id_is() -> None:
    """Issue 14.14: published persistent (deliveryMode 2, as the outbox relays publish), and
    the correlation id where every message has it: the envelope's ``correlation_id``."""
    document = json.loads(render())
    for operation in document["operations"].values():
        assert operation["bindings"]["amqp"]["deliveryMode"] == 2
    for message in document["components"]["messages"].values():
        assert message["correlationId"]["location"] == "$message.payload#/correlation_id"
    assert "correlation_id" in Envelope.model_fields
