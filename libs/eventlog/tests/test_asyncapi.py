"""E2: the checked-in AsyncAPI document is the one the code generates, and it names every event
type on the ``support.events`` exchange with its envelope."""

from __future__ import annotations

import json
from pathlib import Path

from eventlog.asyncapi import render
from support_contracts import EXCHANGE
from support_contracts.catalog import EVENTS

CHECKED_IN = Path(__file__).resolve().parents[3] / "docs" / "asyncapi.json"


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
