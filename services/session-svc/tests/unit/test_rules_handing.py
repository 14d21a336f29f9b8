"""S7-S11 and R6, R8 as session rules, each with its refusals: assisting, control, the hand-off
to WebACD, leaving and ending. Given events, when a command, then events."""

from __future__ import annotations

from uuid import uuid4

import pytest

from session_svc.domain import Session, Status, apply, rules
from session_svc.domain.errors import Invalid, NotAllowed, NotFound, StateForbids
from support_contracts import session
from support_contracts.vocabulary import ActivityKind, Role

from .story import (
    SESSION,
    SHARE,
    T0,
    activity,
    assistant,
    command,
    csr,
    customer,
    given,
    join,
    site,
    started,
    starting,
)

# --- S7, S8 -------------------------------------------------------------------------------------


def test_s7_a_csr_joins_as_assistant_without_control() -> None:
    s = given(started())
    events = rules.join_as_assistant(
        s,
        command(
            session.JoinAsAssistant,
            "carol",
            session_number="123456789",
            csr_id="carol",
            name="Carol",
        ),
    )
    after = apply(s, events, T0)
    assert after.role_of("carol") is Role.ASSISTANT and after.controller == "alice"
    with pytest.raises(StateForbids, match="in this session already"):
        rules.join_as_assistant(
            after,
            command(
                session.JoinAsAssistant, "carol", session_id=SESSION, csr_id="carol", name="Carol"
            ),
        )


def transfer(s: Session, actor: str, to: str, *, voice: bool = True) -> list[object]:
    cmd = command(session.TransferControl, actor, session_id=SESSION, to_csr=to)
    return list(rules.transfer_control(s, cmd, receiver=csr(voice=voice)))


def test_s8_transfer_ends_every_activity_and_the_voice_call_goes_on_if_supported() -> None:
    kinds = [
        SHARE,
        ActivityKind.APPLICATION_SHARING,
        ActivityKind.FILE_TRANSFER,
        ActivityKind.CHAT,
        ActivityKind.VIDEO,
        ActivityKind.RECORDING,
    ]
    voice = activity(ActivityKind.VOICE)
    s = given(started(), assistant(), *(activity(k) for k in kinds), voice)
    events = transfer(s, "alice", "carol", voice=True)
    ended = [e for e in events if isinstance(e, session.ActivityEnded)]
    assert sorted(e.kind for e in ended) == sorted(kinds)
    assert all(e.reason is session.ActivityEndReason.CONTROL_TRANSFERRED for e in ended)
    assert events[-1] == session.ControlTransferred(
        from_csr="alice", to_csr="carol", voice_continues=True
    )
    assert list(apply(s, events, T0).activities) == [voice.activity_id]  # type: ignore[arg-type]


def test_s8_the_voice_call_ends_too_when_the_new_controller_has_no_voice() -> None:
    s = given(started(), assistant(), activity(ActivityKind.VOICE))
    events = transfer(s, "alice", "carol", voice=False)
    assert isinstance(events[0], session.ActivityEnded) and events[0].kind is ActivityKind.VOICE
    assert events[-1] == session.ControlTransferred(
        from_csr="alice", to_csr="carol", voice_continues=False
    )


def test_s8_former_controller_stays_as_assistant_cannot_end_and_can_get_control_back() -> None:
    s = given(started(), assistant())
    moved = apply(s, transfer(s, "alice", "carol"), T0)  # type: ignore[arg-type]
    assert moved.role_of("alice") is Role.ASSISTANT and moved.controller == "carol"
    with pytest.raises(NotAllowed, match="only the controller can end"):
        rules.end_session(moved, command(session.EndSession, "alice", session_id=SESSION))
    back = apply(moved, transfer(moved, "carol", "alice"), T0)  # type: ignore[arg-type]
    assert back.controller == "alice" and back.role_of("carol") is Role.ASSISTANT


def test_s8_only_the_controller_transfers_and_only_to_an_assistant_present_now() -> None:
    s = given(started(), assistant("carol"), customer("bob"))
    with pytest.raises(NotAllowed):
        transfer(s, "carol", "alice")
    with pytest.raises(Invalid, match="assistant who is in the session now"):
        transfer(s, "alice", "bob")
    with pytest.raises(Invalid, match="assistant who is in the session now"):
        transfer(s, "alice", "dave")
    gone = apply(
        s,
        [
            session.ParticipantLeft(
                participant_id="carol", role=Role.ASSISTANT, reason=session.LeaveReason.LEFT
            )
        ],
        T0,
    )
    with pytest.raises(Invalid):
        transfer(gone, "alice", "carol")


# --- S9, R6, R8 ---------------------------------------------------------------------------------


def test_s9_hand_off_to_a_queue_ends_activities_and_the_controller_leaves() -> None:
    queue = uuid4()
    s = given(started(), customer(), activity(SHARE), activity(ActivityKind.VOICE))
    cmd = command(
        session.HandOffToQueue, "alice", session_id=SESSION, queue_id=queue, message="m" * 345
    )
    events = rules.hand_off_to_queue(s, cmd, controller=csr(agent=True))
    assert [type(e) for e in events] == [
        session.ActivityEnded,
        session.ActivityEnded,
        session.HandedToQueue,
        session.ParticipantLeft,
    ]
    assert events[2] == session.HandedToQueue(from_csr="alice", queue_id=queue, message="m" * 345)
    after = apply(s, events, T0)
    assert after.status is Status.WAITING and after.controller is None
    assert [p.id for p in after.customers()] == ["bob"] and not after.activities


def test_s9_hand_off_to_agents_names_each_once_and_never_the_controller() -> None:
    s = given(started(), customer())
    cmd = command(
        session.HandOffToAgents, "alice", session_id=SESSION, agent_ids=["dave", "erin", "dave"]
    )
    agents = {name: csr(agent=True) for name in ("alice", "dave", "erin")}
    events = rules.hand_off_to_agents(s, cmd, controller=csr(agent=True), agents=agents)
    assert session.HandedToAgents(from_csr="alice", agent_ids=["dave", "erin"]) in events
    with pytest.raises(Invalid, match="not to yourself"):
        rules.hand_off_to_agents(
            s,
            command(session.HandOffToAgents, "alice", session_id=SESSION, agent_ids=["alice"]),
            controller=csr(agent=True),
            agents=agents,
        )


def test_s9_a_hand_off_to_agents_who_are_not_webacd_agents_is_refused() -> None:
    """Issue 14.1: nobody would take it, and its customers would wait for good."""
    s = given(started(), customer())
    agents = {"dave": csr(agent=True), "bob": csr(agent=False)}  # bob: a csr, not an agent
    for named in (["dave", "nobody"], ["bob"]):
        cmd = command(session.HandOffToAgents, "alice", session_id=SESSION, agent_ids=named)
        with pytest.raises(NotFound, match="no WebACD agent is called") as refused:
            rules.hand_off_to_agents(s, cmd, controller=csr(agent=True), agents=agents)
        assert refused.value.code == "unknown_agent"


def test_s9_only_a_controller_who_is_an_agent_hands_off() -> None:
    s = given(started(), assistant())
    cmd = command(session.HandOffToQueue, "alice", session_id=SESSION, queue_id=uuid4())
    with pytest.raises(NotAllowed, match="only a WebACD agent"):
        rules.hand_off_to_queue(s, cmd, controller=csr(agent=False))
    as_assistant = command(session.HandOffToQueue, "carol", session_id=SESSION, queue_id=uuid4())
    with pytest.raises(NotAllowed, match="controller"):
        rules.hand_off_to_queue(s, as_assistant, controller=csr(agent=True))


def assignment(agent: str) -> session.AssignAgent:
    """Routing's command: ``agent`` accepted the offer."""
    return command(
        session.AssignAgent,
        "routing",
        session_id=SESSION,
        agent_id=agent,
        agent_name=agent.title(),
        offer_id=uuid4(),
    )


def test_r6_the_agent_who_accepted_becomes_controller_of_a_waiting_session() -> None:
    waiting = given(
        started(),
        customer(),
        session.HandedToQueue(from_csr="alice", queue_id=uuid4()),
        session.ParticipantLeft(
            participant_id="alice", role=Role.CONTROLLER, reason=session.LeaveReason.HANDED_OFF
        ),
    )
    cmd = assignment("dave")
    after = apply(waiting, rules.assign_agent(waiting, cmd), T0)
    assert (after.status, after.controller) == (Status.LIVE, "dave")
    with pytest.raises(StateForbids, match="has a controller already"):
        rules.assign_agent(after, cmd)
    assert isinstance(rules.assign_agent(waiting, cmd)[0], session.AgentAssigned)
    with pytest.raises(Invalid, match="customer of this session"):
        rules.assign_agent(waiting, assignment("bob"))


def test_r8_a_customer_request_opens_a_session_waiting_with_its_customer_active() -> None:
    cmd = command(
        session.OpenRequestedSession,
        None,
        queue_id=uuid4(),
        request_id=uuid4(),
        customer_name="Bob",
        customer_email="bob@example.com",
        problem="no sound",
    )
    s = given(
        *rules.open_requested_session(
            cmd, session_id=SESSION, number="555555555", customer_id="bob"
        )
    )
    assert (s.status, s.active_customer, s.controller) == (Status.WAITING, "bob", None)
    with pytest.raises(StateForbids, match="waits for a WebACD agent"):
        rules.join_as_customer(s, join(), participant_id="eve", site=site())


# --- S10, S11 -----------------------------------------------------------------------------------


def test_s10_ending_stops_every_activity_and_removes_everyone() -> None:
    s = given(started(), customer(), assistant(), activity(SHARE), activity(ActivityKind.CHAT))
    events = rules.end_session(s, command(session.EndSession, "alice", session_id=SESSION))
    assert [type(e) for e in events] == [
        session.ActivityEnded,
        session.ActivityEnded,
        session.SessionEnded,
    ]
    after = apply(s, events, T0)
    assert after.status is Status.ENDED and not after.participants and not after.activities


def test_s10_only_the_controller_ends_and_nothing_happens_after_the_end() -> None:
    s = given(started(), customer(), assistant())
    with pytest.raises(NotAllowed):
        rules.end_session(s, command(session.EndSession, "carol", session_id=SESSION))
    ended = apply(
        s, rules.end_session(s, command(session.EndSession, "alice", session_id=SESSION)), T0
    )
    refusals = [
        lambda: rules.join_as_customer(ended, join(), participant_id="x", site=site()),
        lambda: rules.join_as_assistant(
            ended,
            command(
                session.JoinAsAssistant, "dave", session_id=SESSION, csr_id="dave", name="Dave"
            ),
        ),
        lambda: rules.start_activity(
            ended,
            starting(SHARE),
            activity_id=uuid4(),
        ),
        lambda: rules.end_session(ended, command(session.EndSession, "alice", session_id=SESSION)),
        lambda: rules.leave(
            ended, command(session.Leave, "bob", session_id=SESSION, participant_id="bob")
        ),
    ]
    for refused in refusals:
        with pytest.raises(StateForbids, match="the session has ended") as error:
            refused()
        assert error.value.status == 409


def test_s10_an_unknown_session_is_not_found() -> None:
    with pytest.raises(NotFound):
        rules.end_session(Session(), command(session.EndSession, "alice", session_id=SESSION))


def leave(s: Session, who: str) -> list[object]:
    return list(rules.leave(s, command(session.Leave, who, session_id=SESSION, participant_id=who)))


def test_s11_a_customer_or_assistant_leaves_and_their_sharing_ends() -> None:
    bob_shares = activity(SHARE, by="bob")
    s = given(
        started(),
        customer("bob"),
        session.ActiveCustomerSelected(participant_id="bob"),
        assistant(),
        bob_shares,
    )
    events = leave(s, "bob")
    assert events == [
        session.ActivityEnded(
            activity_id=bob_shares.activity_id,
            kind=SHARE,
            reason=session.ActivityEndReason.PARTICIPANT_LEFT,
        ),
        session.ParticipantLeft(
            participant_id="bob", role=Role.CUSTOMER, reason=session.LeaveReason.LEFT
        ),
    ]
    after = apply(s, events, T0)  # type: ignore[arg-type]
    assert after.active_customer is None and after.status is Status.LIVE
    assert leave(s, "carol") == [
        session.ParticipantLeft(
            participant_id="carol", role=Role.ASSISTANT, reason=session.LeaveReason.LEFT
        )
    ]


def test_s11_the_controller_leaving_ends_the_session() -> None:
    events = leave(given(started(), customer()), "alice")
    assert events[-1] == session.SessionEnded(
        reason=session.EndReason.CONTROLLER_LEFT, ended_by="alice"
    )


def test_s11_one_leaves_only_oneself_and_only_when_present() -> None:
    s = given(started(), customer("bob"))
    with pytest.raises(NotAllowed):
        rules.leave(s, command(session.Leave, "alice", session_id=SESSION, participant_id="bob"))
    with pytest.raises(NotFound):
        leave(s, "zoe")


def test_s11_the_last_waiting_customer_leaving_withdraws_the_request() -> None:
    waiting = given(
        started(),
        customer("bob"),
        session.HandedToQueue(from_csr="alice", queue_id=uuid4()),
        session.ParticipantLeft(
            participant_id="alice", role=Role.CONTROLLER, reason=session.LeaveReason.HANDED_OFF
        ),
    )
    assert leave(waiting, "bob")[-1] == session.SessionEnded(
        reason=session.EndReason.WITHDRAWN, ended_by="bob"
    )
