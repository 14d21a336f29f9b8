"""Property: whatever sequence of commands arrives, the session keeps its invariants (S1-S12),
a refusal records nothing, and replaying the recorded stream gives the same state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from eventlog import NewEvent
from session_svc.domain import Refused, Session, Status, apply, fold, rules
from session_svc.domain.rules import SHARING
from support_contracts import Event, session
from support_contracts.vocabulary import ActivityKind, Role

from .story import SESSION, T0, command, csr, site, started

CSRS = ["alice", "carol", "dave"]
CUSTOMERS = ["bob", "dana", "eve", "finn"]
PEOPLE = CSRS + CUSTOMERS
LIMITS = site(max_customers_per_session=3)


def decide(s: Session, step: tuple[str, str, str, ActivityKind, bool]) -> list[Event]:
    what, actor, other, kind, flag = step
    sid = {"session_id": SESSION}
    first_activity = next(iter(s.activities), uuid4())
    other_csr = CSRS[PEOPLE.index(other) % len(CSRS)]  # only csrs assist or take sessions
    actor_csr = CSRS[PEOPLE.index(actor) % len(CSRS)]
    deciders: dict[str, Callable[[], list[Event]]] = {
        "join": lambda: rules.join_as_customer(
            s,
            command(session.JoinAsCustomer, actor, name=actor, **sid),
            participant_id=actor,
            site=LIMITS,
        ),
        "assist": lambda: rules.join_as_assistant(
            s, command(session.JoinAsAssistant, actor_csr, csr_id=actor_csr, name=actor_csr, **sid)
        ),
        "select": lambda: rules.select_active_customer(
            s, command(session.SelectActiveCustomer, actor, participant_id=other, **sid)
        ),
        "start": lambda: rules.start_activity(
            s,
            command(session.StartActivity, actor, kind=kind, participant_id=actor, **sid),
            activity_id=uuid4(),
        ),
        "stop": lambda: rules.end_activity(
            s, command(session.EndActivity, actor, activity_id=first_activity, **sid)
        ),
        "transfer": lambda: rules.transfer_control(
            s,
            command(session.TransferControl, actor, to_csr=other, **sid),
            receiver=csr(voice=flag),
        ),
        "queue": lambda: rules.hand_off_to_queue(
            s,
            command(session.HandOffToQueue, actor, queue_id=uuid4(), **sid),
            controller=csr(agent=flag),
        ),
        "agents": lambda: rules.hand_off_to_agents(
            s,
            command(session.HandOffToAgents, actor, agent_ids=[other], **sid),
            controller=csr(agent=flag),
            agents={other: csr(agent=True)},
        ),
        "assign": lambda: rules.assign_agent(  # routing offers sessions to agents, who are csrs
            s,
            command(
                session.AssignAgent,
                "routing",
                agent_id=other_csr,
                agent_name=other_csr,
                offer_id=uuid4(),
                **sid,
            ),
        ),
        "leave": lambda: rules.leave(s, command(session.Leave, actor, participant_id=actor, **sid)),
        "end": lambda: rules.end_session(s, command(session.EndSession, actor, **sid)),
        "heartbeat": lambda: rules.record_heartbeat(
            s, command(session.RecordHeartbeat, actor, **sid), now=T0, site=LIMITS
        ),
        "lapse": lambda: rules.end_if_console_lapsed(s, now=T0.replace(year=2027), site=LIMITS),
    }
    return deciders[what]()


steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "join",
                "assist",
                "select",
                "start",
                "stop",
                "transfer",
                "queue",
                "agents",
                "assign",
                "leave",
                "end",
                "heartbeat",
                "lapse",
            ]
        ),
        st.sampled_from(PEOPLE),
        st.sampled_from(PEOPLE),
        st.sampled_from(list(ActivityKind)),
        st.booleans(),
    ),
    max_size=40,
)


def check_invariants(s: Session) -> None:
    if s.status is Status.LIVE:
        controllers = [p for p in s.participants.values() if p.role is Role.CONTROLLER]
        assert [p.id for p in controllers] == [s.controller], "exactly one controller"
        assert s.controller in CSRS, "the controller is a csr"
    else:
        assert s.controller is None
    if s.status is Status.WAITING:
        assert not s.activities, "nothing runs while the session waits for an agent"
    if s.status is Status.ENDED:
        assert not s.participants and not s.activities
    assert len(s.customers()) <= LIMITS.max_customers_per_session
    assert s.active_customer is None or s.role_of(s.active_customer) is Role.CUSTOMER
    assert len({a.kind for a in s.activities.values()}) == len(s.activities)
    for a in s.activities.values():
        assert a.started_by in s.participants, "an activity's starter is present"


def check_step(before: Session, events: list[Event], after: Session) -> None:
    if before.status is Status.ENDED:
        assert events == [], "nothing happens after the end"
    for event in events:
        if isinstance(event, session.ControlTransferred):
            kinds = {a.kind for a in after.activities.values()}
            assert kinds <= ({ActivityKind.VOICE} if event.voice_continues else set())
            assert after.role_of(event.from_csr) is Role.ASSISTANT
        if isinstance(event, session.ActiveCustomerSelected) and before.active_customer is not None:
            assert not any(a.kind in SHARING for a in after.activities.values())
        if isinstance(event, session.HandedToQueue | session.HandedToAgents):
            assert after.status is Status.WAITING and after.controller is None


def recorded(events: list[Event]) -> list[Any]:
    cause = uuid4()
    return [
        NewEvent.from_event(e, occurred_at=T0, correlation_id=cause, causation_id=cause).recorded(
            f"session-{SESSION}", version, version
        )
        for version, e in enumerate(events)
    ]


@settings(max_examples=300, deadline=None)
@given(steps=steps)
def test_any_sequence_of_commands_keeps_the_invariants_and_replays_the_same(
    steps: list[tuple[str, str, str, ActivityKind, bool]],
) -> None:
    state = apply(Session(), [started("alice")], T0)
    history: list[Event] = [started("alice")]
    for step in steps:
        try:
            events = decide(state, step)
        except Refused:
            events = []  # a refusal records nothing
            if state.status is Status.ENDED:
                continue
        after = apply(state, events, T0)
        check_step(state, events, after)
        check_invariants(after)
        state, history = after, history + events
    assert fold(recorded(history)) == state
    assert fold(recorded(history)) == fold(recorded(history))
