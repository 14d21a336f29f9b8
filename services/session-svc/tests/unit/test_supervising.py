"""R17 (and issue 14.2, where it began) as session rules: a supervisor or an admin ends any
session, re-queues a waiting one, or takes over a live one. Given events, when a command, then
events."""

from __future__ import annotations

from uuid import uuid4

import pytest

from session_svc.domain import Session, Status, apply, rules, supervising
from session_svc.domain.errors import Invalid, NotAllowed, NotFound, StateForbids
from session_svc.domain.rules import ending
from support_contracts import session
from support_contracts.vocabulary import ActivityKind, Role

from .story import SESSION, SHARE, T0, activity, assistant, command, csr, customer, given, started

# --- issue 14.2: an admin's way out -------------------------------------------------------------


def test_issue_14_2_an_admin_ends_any_session_live_or_waiting_with_who_did_it() -> None:
    live = given(started(), customer(), activity(SHARE))
    events = supervising.end_as_admin(
        live, command(session.EndSessionAsAdmin, "root", session_id=SESSION)
    )
    assert [type(e) for e in events] == [session.ActivityEnded, session.SessionEnded]
    assert events[-1] == session.SessionEnded(
        reason=session.EndReason.ENDED_BY_ADMIN, ended_by="root"
    )
    handed = rules.hand_off_to_queue(
        live, command(session.HandOffToQueue, "alice", session_id=SESSION, queue_id=uuid4()),
        controller=csr(agent=True),
    )  # fmt: skip
    waiting = apply(live, handed, T0)
    by_admin = command(session.EndSessionAsAdmin, "root", session_id=SESSION)
    ended = apply(waiting, supervising.end_as_admin(waiting, by_admin), T0)
    assert ended.status is Status.ENDED and not ended.participants
    with pytest.raises(StateForbids, match="has ended"):
        supervising.end_as_admin(
            ended, command(session.EndSessionAsAdmin, "root", session_id=SESSION)
        )
    with pytest.raises(NotFound):
        supervising.end_as_admin(
            Session(), command(session.EndSessionAsAdmin, "root", session_id=SESSION)
        )


def test_issue_14_2_an_admin_requeues_only_a_session_waiting_for_an_agent() -> None:
    live = given(started(), customer())
    elsewhere = uuid4()
    requeue = command(session.RequeueSession, "root", session_id=SESSION, queue_id=elsewhere)
    with pytest.raises(StateForbids, match="has a controller") as refused:
        supervising.requeue(live, requeue)
    assert refused.value.code == "not_waiting"
    handed = rules.hand_off_to_queue(
        live,
        command(session.HandOffToQueue, "alice", session_id=SESSION, queue_id=uuid4(), message="m"),
        controller=csr(agent=True),
    )
    waiting = apply(live, handed, T0)
    events = supervising.requeue(waiting, requeue)
    assert events == [session.SessionRequeued(queue_id=elsewhere, requeued_by="root")]
    after = apply(waiting, events, T0)
    assert after.status is Status.WAITING and after.handoff is not None
    assert (after.handoff.queue_id, after.handoff.message) == (elsewhere, "m")


# --- R17: taking over a live session ------------------------------------------------------------


def take_over(s: Session, who: str = "sue", *, voice: bool = True) -> list[object]:
    cmd = command(
        session.TakeOverSession,
        who,
        session_id=SESSION,
        supervisor_id=who,
        supervisor_name=who.title(),
    )
    return list(supervising.take_over(s, cmd, supervisor=csr(voice=voice)))


def test_r17_a_supervisor_takes_over_a_live_session_the_controller_stays_as_assistant() -> None:
    voice = activity(ActivityKind.VOICE)
    s = given(started(), customer(), activity(SHARE), voice)
    events = take_over(s, "sue", voice=True)
    assert events[0] == session.AssistantJoined(csr_id="sue", name="Sue", via="supervisor")
    ended = [e for e in events if isinstance(e, session.ActivityEnded)]
    assert [(e.kind, e.reason) for e in ended] == [
        (SHARE, session.ActivityEndReason.CONTROL_TRANSFERRED)
    ]
    assert events[-2] == session.ControlTransferred(
        from_csr="alice", to_csr="sue", voice_continues=True, taken_over_by="sue"
    )
    assert events[-1] == session.ConsoleSeen(csr_id="sue")  # S4: her console counts from now
    after = apply(s, events, T0)  # type: ignore[arg-type]
    assert after.controller == "sue" and after.role_of("alice") is Role.ASSISTANT
    assert after.role_of("bob") is Role.CUSTOMER and after.console_seen_at == T0
    assert list(after.activities) == [voice.activity_id]
    with pytest.raises(NotAllowed, match="only the controller can end"):  # S8, as after a transfer
        rules.end_session(after, command(session.EndSession, "alice", session_id=SESSION))


def test_r17_a_supervisor_assisting_already_takes_control_without_joining_again() -> None:
    s = given(started(), assistant("sue"), activity(ActivityKind.VOICE))
    events = take_over(s, "sue", voice=False)  # her system has no voice: the call ends
    assert [type(e) for e in events] == [
        session.ActivityEnded,
        session.ControlTransferred,
        session.ConsoleSeen,
    ]
    assert events[1] == session.ControlTransferred(
        from_csr="alice", to_csr="sue", voice_continues=False, taken_over_by="sue"
    )


def test_r17_take_over_is_refused_for_a_waiting_or_ended_session_and_for_its_controller() -> None:
    s = given(started(), customer())
    with pytest.raises(Invalid, match="you have control already"):
        take_over(s, "alice")
    with pytest.raises(Invalid, match="a customer of this session") as refused:
        take_over(s, "bob")
    assert refused.value.code == "customer_as_supervisor"
    handed = rules.hand_off_to_queue(
        s, command(session.HandOffToQueue, "alice", session_id=SESSION, queue_id=uuid4()),
        controller=csr(agent=True),
    )  # fmt: skip
    with pytest.raises(StateForbids, match="waits for a WebACD agent"):
        take_over(apply(s, handed, T0))
    with pytest.raises(StateForbids, match="has ended"):
        take_over(apply(s, ending(s, session.EndReason.ENDED_BY_ADMIN, "root"), T0))
    with pytest.raises(NotFound):
        take_over(Session())
