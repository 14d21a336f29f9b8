"""S1-S6 as session rules, each with its refusals: starting, the csr's ledger, console
presence, joining and the active customer, activities. Given events, when a command, then
events (S7-S11 in ``test_rules_handing``)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from session_svc.domain import Session, Status, apply, rules
from session_svc.domain.errors import Invalid, NotAllowed, NotFound, StateForbids
from session_svc.domain.settings import control_changes
from support_contracts import session
from support_contracts.vocabulary import ActivityKind, Role, SessionMode

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
    later,
    site,
    start,
    started,
    starting,
)

# --- S1, S2, S3 ---------------------------------------------------------------------------------


def test_s1_start_makes_the_starter_controller_of_a_numbered_session() -> None:
    events = rules.start_session(
        start(), session_id=SESSION, number="987654321", csr=csr(), site=site()
    )
    assert events == [
        session.SessionStarted(
            session_id=SESSION,
            session_number="987654321",
            csr_id="alice",
            csr_name="Alice",
            email_invite=True,
        )
    ]
    state = given(*events)
    assert (state.status, state.controller, state.number) == (Status.LIVE, "alice", "987654321")
    assert state.role_of("alice") is Role.CONTROLLER


def test_s3_email_invite_is_on_unless_switched_off() -> None:
    def flag(cmd: session.StartSession) -> bool:
        [event] = rules.start_session(
            cmd, session_id=SESSION, number="1" * 9, csr=csr(), site=site()
        )
        assert isinstance(event, session.SessionStarted)
        return event.email_invite

    assert flag(start()) is True
    assert flag(start(email_invite=False)) is False


def test_s2_single_session_mode_refuses_a_second_live_session() -> None:
    with pytest.raises(StateForbids, match="already run a live session") as refused:
        rules.start_session(
            start(), session_id=SESSION, number="1" * 9, csr=csr(controls=1), site=site()
        )
    assert refused.value.status == 409 and refused.value.code == "session_limit"


def test_s2_multi_session_mode_allows_up_to_the_site_limit() -> None:
    multi = site(multi_session_allowed=True, max_sessions_per_csr=3)
    assert rules.start_session(
        start(),
        session_id=SESSION,
        number="1" * 9,
        csr=csr(SessionMode.MULTI, controls=2),
        site=multi,
    )
    with pytest.raises(StateForbids, match="3 live sessions"):
        rules.start_session(
            start(),
            session_id=SESSION,
            number="1" * 9,
            csr=csr(SessionMode.MULTI, controls=3),
            site=multi,
        )


def test_s2_multi_session_mode_needs_both_the_site_and_the_csr_settings() -> None:
    assert csr(SessionMode.MULTI).session_limit(site(multi_session_allowed=False)) == 1
    assert csr(SessionMode.SINGLE).session_limit(site(multi_session_allowed=True)) == 1
    assert csr(SessionMode.MULTI).session_limit(site(max_sessions_per_csr=4)) == 4


def test_s2_ledger_follows_control_through_start_transfer_and_end() -> None:
    live = given(started(), assistant())
    assert control_changes(Session(), live) == {
        "alice": [session.ControlGained(session_id=SESSION)]
    }
    moved = apply(
        live,
        rules.transfer_control(
            live,
            command(session.TransferControl, "alice", session_id=SESSION, to_csr="carol"),
            receiver=csr(),
        ),
        T0,
    )
    assert control_changes(live, moved) == {
        "alice": [session.ControlReleased(session_id=SESSION)],
        "carol": [session.ControlGained(session_id=SESSION)],
    }
    ended = apply(
        moved,
        rules.end_session(moved, command(session.EndSession, "carol", session_id=SESSION)),
        T0,
    )
    assert control_changes(moved, ended) == {"carol": [session.ControlReleased(session_id=SESSION)]}


# --- S4 -----------------------------------------------------------------------------------------


def heartbeat(actor: str = "alice") -> session.RecordHeartbeat:
    return command(session.RecordHeartbeat, actor, session_id=SESSION)


def test_s4_heartbeats_are_recorded_at_most_every_third_of_the_grace_period() -> None:
    grace = site(console_grace_seconds=60)
    live = given(started())  # seen at T0
    assert rules.record_heartbeat(live, heartbeat(), now=later(19), site=grace) == []
    assert rules.record_heartbeat(live, heartbeat(), now=later(20), site=grace) == [
        session.ConsoleSeen(csr_id="alice")
    ]


def test_s4_only_the_controllers_console_keeps_the_session() -> None:
    with pytest.raises(NotAllowed):
        rules.record_heartbeat(
            given(started(), assistant()), heartbeat("carol"), now=later(30), site=site()
        )


def test_s4_console_gone_past_the_grace_period_ends_the_session_console_closed() -> None:
    grace = site(console_grace_seconds=60)
    live = given(started(), activity(SHARE))
    assert rules.end_if_console_lapsed(live, now=later(60), site=grace) == []
    events = rules.end_if_console_lapsed(live, now=later(61), site=grace)
    assert isinstance(events[0], session.ActivityEnded)
    assert events[-1] == session.SessionEnded(
        reason=session.EndReason.CONSOLE_CLOSED, ended_by=None
    )
    seen_again = apply(live, [session.ConsoleSeen(csr_id="alice")], later(50))
    assert rules.end_if_console_lapsed(seen_again, now=later(100), site=grace) == []


def test_s4_a_waiting_or_ended_session_has_no_console_to_lose() -> None:
    waiting = given(
        started(), customer(), session.HandedToQueue(from_csr="alice", queue_id=uuid4())
    )
    assert rules.end_if_console_lapsed(waiting, now=later(3600), site=site()) == []
    ended = given(started(), session.SessionEnded(reason=session.EndReason.ENDED_BY_CONTROLLER))
    assert rules.end_if_console_lapsed(ended, now=later(3600), site=site()) == []


# --- S5, S6 -------------------------------------------------------------------------------------


def test_s5_first_customer_becomes_active_and_others_join_up_to_the_limit() -> None:
    first = rules.join_as_customer(given(started()), join(), participant_id="bob", site=site())
    assert first[-1] == session.ActiveCustomerSelected(participant_id="bob")
    two = given(
        started(),
        customer("bob"),
        session.ActiveCustomerSelected(participant_id="bob"),
        customer("dana"),
    )
    third = rules.join_as_customer(two, join(), participant_id="eve", site=site())
    assert len(third) == 1 and third[0].participant_id == "eve"  # type: ignore[attr-defined]
    assert [p.id for p in apply(two, third, T0).customers()] == ["bob", "dana", "eve"]
    with pytest.raises(StateForbids, match="already has 2 customers") as refused:
        rules.join_as_customer(
            two, join(), participant_id="eve", site=site(max_customers_per_session=2)
        )
    assert refused.value.code == "customer_limit"


def test_s5_someone_in_the_session_cannot_join_it_again_as_a_customer() -> None:
    with pytest.raises(StateForbids, match="in this session already"):
        rules.join_as_customer(given(started()), join(), participant_id="alice", site=site())


def test_s5_a_site_without_multiple_customers_refuses_the_second() -> None:
    with pytest.raises(StateForbids, match="one customer per session"):
        rules.join_as_customer(
            given(started(), customer()),
            join(),
            participant_id="eve",
            site=site(multiple_customers_allowed=False),
        )


def test_s5_switching_the_active_customer_ends_every_sharing_activity_at_once() -> None:
    desktop, app, chat = (
        activity(SHARE),
        activity(ActivityKind.APPLICATION_SHARING),
        activity(ActivityKind.CHAT),
    )
    s = given(
        started(),
        customer("bob"),
        customer("dana"),
        session.ActiveCustomerSelected(participant_id="bob"),
        desktop,
        app,
        chat,
    )
    events = rules.select_active_customer(
        s, command(session.SelectActiveCustomer, "alice", session_id=SESSION, participant_id="dana")
    )
    ended = {e.activity_id for e in events if isinstance(e, session.ActivityEnded)}
    assert ended == {desktop.activity_id, app.activity_id}  # chat goes on
    assert all(
        e.reason is session.ActivityEndReason.ACTIVE_CUSTOMER_CHANGED
        for e in events
        if isinstance(e, session.ActivityEnded)
    )
    assert events[-1] == session.ActiveCustomerSelected(participant_id="dana")
    assert apply(s, events, T0).active_customer == "dana"


def test_s5_selecting_refusals() -> None:
    s = given(started(), customer("bob"), assistant("carol"))

    def select(actor: str, pid: str) -> object:
        return rules.select_active_customer(
            s, command(session.SelectActiveCustomer, actor, session_id=SESSION, participant_id=pid)
        )

    with pytest.raises(NotAllowed):
        select("carol", "bob")
    with pytest.raises(NotFound):
        select("alice", "nobody")
    with pytest.raises(Invalid, match="only a customer"):
        select("alice", "carol")


def test_s6_the_active_customer_may_share_its_own_desktop_others_may_not() -> None:
    s = given(
        started(),
        customer("bob"),
        customer("dana"),
        session.ActiveCustomerSelected(participant_id="bob"),
    )

    def share(actor: str, kind: ActivityKind = SHARE) -> object:
        return rules.start_activity(
            s,
            starting(kind, actor),
            activity_id=uuid4(),
        )

    assert share("bob")
    assert share("alice", ActivityKind.VIDEO)
    with pytest.raises(NotAllowed):
        share("dana")  # not the active customer
    with pytest.raises(NotAllowed):
        share("bob", ActivityKind.RECORDING)  # customers only share their own screen


def test_s6_one_activity_of_a_kind_at_a_time_and_only_running_ones_end() -> None:
    running = activity(SHARE)
    s = given(started(), running)
    with pytest.raises(StateForbids, match="running already"):
        rules.start_activity(
            s,
            starting(SHARE),
            activity_id=uuid4(),
        )
    stop = rules.end_activity(
        s,
        command(session.EndActivity, "alice", session_id=SESSION, activity_id=running.activity_id),
    )
    assert stop == [
        session.ActivityEnded(
            activity_id=running.activity_id, kind=SHARE, reason=session.ActivityEndReason.STOPPED
        )
    ]
    with pytest.raises(NotFound):
        rules.end_activity(
            apply(s, stop, T0),
            command(
                session.EndActivity, "alice", session_id=SESSION, activity_id=running.activity_id
            ),
        )
