"""Every contract model round-trips through JSON and refuses bad input with a clear message
(foundation issue, CONTRACT.md "Events")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from support_contracts import COMMANDS, EVENTS, ContractViolation, Envelope, json_schemas
from support_contracts.base import Message
from support_contracts.routing import OfferAccepted
from support_contracts.session import HandedToQueue, JoinAsCustomer, SessionStarted
from support_contracts.topology import Topology
from support_contracts.vocabulary import format_session_number, parse_session_number

from .schema_strategy import from_model_schema

ALL_MODELS: list[type[Message]] = [*EVENTS.classes(), *COMMANDS.classes()]


def valid_instance(model: type[Message], data: dict[str, Any]) -> Message:
    try:
        return model.model_validate(data)
    except ValidationError:
        assume(False)  # a model-level rule (e.g. "exactly one of") that JSON Schema cannot say
        raise


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
@settings(max_examples=15, suppress_health_check=list(HealthCheck), deadline=None)
@given(data=st.data())
def test_every_model_round_trips_through_json(model: type[Message], data: st.DataObject) -> None:
    raw = data.draw(from_model_schema(model.model_json_schema()))
    instance = valid_instance(model, raw)
    again = model.parse(instance.model_dump_json())
    assert again == instance
    assert model.parse(json.loads(instance.model_dump_json())) == instance


def session_started() -> dict[str, Any]:
    return {
        "session_id": str(uuid4()),
        "session_number": "123456789",
        "csr_id": "csr-1",
        "csr_name": "Alice",
        "email_invite": True,
    }


def test_unknown_field_is_refused_naming_the_field() -> None:
    with pytest.raises(ContractViolation, match=r"SessionStarted .*colour: Extra inputs"):
        SessionStarted.parse({**session_started(), "colour": "red"})


def test_missing_field_is_refused_naming_the_field() -> None:
    data = session_started()
    del data["csr_id"]
    with pytest.raises(ContractViolation, match=r"csr_id: Field required"):
        SessionStarted.parse(data)


def test_bad_session_number_is_refused_naming_the_field() -> None:
    with pytest.raises(ContractViolation, match=r"session_number: String should match"):
        SessionStarted.parse({**session_started(), "session_number": "12345678"})


def test_s9_handoff_message_of_345_characters_is_accepted_and_346_refused() -> None:
    base = {"from_csr": "csr-1", "queue_id": str(uuid4())}
    assert HandedToQueue.parse({**base, "message": "x" * 345}).message == "x" * 345
    with pytest.raises(ContractViolation, match=r"message: String should have at most 345"):
        HandedToQueue.parse({**base, "message": "x" * 346})


def test_join_names_exactly_one_session() -> None:
    ids = {"command_id": str(uuid4()), "correlation_id": str(uuid4()), "name": "Bob"}
    with pytest.raises(ContractViolation, match="exactly one of session_id or session_number"):
        JoinAsCustomer.parse(ids)
    with pytest.raises(ContractViolation, match="exactly one of session_id or session_number"):
        JoinAsCustomer.parse({**ids, "session_id": str(uuid4()), "session_number": "123456789"})


def envelope(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "event_id": str(uuid4()),
        "type": "SessionStarted",
        "schema_version": 1,
        "stream_id": f"session-{uuid4()}",
        "stream_version": 0,
        "global_position": 1207,
        "occurred_at": "2026-11-24T10:00:00.000000Z",
        "correlation_id": str(uuid4()),
        "causation_id": str(uuid4()),
        "data": session_started(),
    }
    return {**base, **changes}


def test_envelope_keeps_the_contract_format() -> None:
    parsed = Envelope.parse(envelope())
    dumped = json.loads(parsed.model_dump_json())
    assert dumped == envelope(**{k: dumped[k] for k in ("event_id", "stream_id")}) | {
        "correlation_id": dumped["correlation_id"],
        "causation_id": dumped["causation_id"],
        "data": dumped["data"],
    }
    assert dumped["occurred_at"] == "2026-11-24T10:00:00.000000Z"
    assert parsed.routing_key == "session.SessionStarted"
    assert isinstance(parsed.event(), SessionStarted)


def test_envelope_refuses_a_time_without_zone_and_unknown_types() -> None:
    with pytest.raises(ContractViolation, match="occurred_at: Value error, must carry a time zone"):
        Envelope.parse(envelope(occurred_at="2026-11-24T10:00:00"))
    with pytest.raises(ContractViolation, match="unknown event type 'Teleported'"):
        Envelope.parse(envelope(type="Teleported")).event()
    with pytest.raises(ContractViolation, match="stream_version: Input should be greater"):
        Envelope.parse(envelope(stream_version=-1))


def test_envelope_normalises_other_zones_to_utc() -> None:
    parsed = Envelope.parse(envelope(occurred_at="2026-11-24T11:00:00+01:00"))
    assert parsed.occurred_at == datetime(2026, 11, 24, 10, tzinfo=UTC)


def test_every_event_has_a_routing_key_and_schema() -> None:
    schemas = json_schemas()
    assert set(schemas["events"]) == {cls.routing_key() for cls in EVENTS.classes()}
    for key, schema in schemas["events"].items():
        context, name = key.split(".")
        assert context in {"session", "invite", "routing", "relay"}
        assert schema["title"] == name
        assert schema["x-schema-version"] == 1
        assert schema["additionalProperties"] is False


def test_s1_session_number_is_shown_in_groups_of_three() -> None:
    assert format_session_number("123456789") == "123 456 789"
    assert parse_session_number("123 456-789") == "123456789"
    with pytest.raises(ValueError, match="9 digits"):
        parse_session_number("12 345")


def test_an_accept_reads_as_before_assigned_by_was_added() -> None:
    """Issue 14.2: ``assigned_by`` is left out when the agent accepted, so a consumer still
    running the version before it (strict about unknown fields) reads every agent's accept."""
    fields = {"offer_id": str(uuid4()), "task_id": str(uuid4()), "session_id": str(uuid4()),
              "agent_id": "zoe", "agent_name": "Zoe"}  # fmt: skip
    accepted = OfferAccepted.parse(fields)
    assert accepted.assigned_by is None
    assert accepted.model_dump(mode="json") == fields
    assigned = OfferAccepted.parse({**fields, "assigned_by": "root"})
    assert assigned.model_dump(mode="json") == {**fields, "assigned_by": "root"}


def test_the_topology_names_every_queue_once_and_binds_only_events_that_exist() -> None:
    """Issue 14.11: one topology, behind a prefix; every routing key is an event's."""
    topology = Topology("t.events", "t.")
    assert len(set(topology.queues)) == len(topology.queues)
    assert all(name.startswith("t.") for name in topology.queues)
    assert topology.command_queue("session-svc") == "t.session-svc.commands"
    keys = {event.routing_key() for event in EVENTS.classes()}
    for subscription in topology.subscriptions:
        assert subscription.routing_keys and set(subscription.routing_keys) <= keys
        assert f"{subscription.queue}.dead" in topology.queues
    assert "session.SessionRequeued" in topology.subscription("routing-svc").routing_keys
    assert topology.subscription("media-relay").arguments["x-single-active-consumer"] is True
