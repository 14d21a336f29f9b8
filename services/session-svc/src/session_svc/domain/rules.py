"""The rules of a support session (S1-S12): one function per command, named after it. Each
takes the session's state and what the handler looked up, and returns the events that follow,
or raises a refusal (``errors.py``). No I/O, no clock, no id generation: those come in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from uuid import UUID

from session_svc.domain.errors import Invalid, NotAllowed, NotFound, StateForbids
from session_svc.domain.settings import Csr
from session_svc.domain.state import Session, Status
from support_contracts import Event, session
from support_contracts.vocabulary import ActivityKind, Role

SHARING = frozenset({ActivityKind.DESKTOP_SHARING, ActivityKind.APPLICATION_SHARING})


# --- guards -------------------------------------------------------------------------------------


def exists(s: Session) -> None:
    if s.status is Status.NEW:
        raise NotFound("unknown_session", "there is no such session")
    if s.status is Status.ENDED:
        raise StateForbids("session_ended", "the session has ended; start a new one")


def running(s: Session) -> None:
    """Live, with a controller: not ended, not waiting for an agent."""
    exists(s)
    if s.status is Status.WAITING:
        raise StateForbids(
            "waiting_for_agent", "the session waits for a WebACD agent to take it; try again then"
        )


def _controller(s: Session, actor: str | None) -> None:
    running(s)
    if actor != s.controller:
        raise NotAllowed(
            "not_controller", "only the session's controller can do this; ask them for control"
        )


def _end_activities(
    s: Session, reason: session.ActivityEndReason, keep: UUID | None = None
) -> list[Event]:
    return [
        session.ActivityEnded(activity_id=a.id, kind=a.kind, reason=reason)
        for a in s.activities.values()
        if a.id != keep
    ]


def ending(s: Session, reason: session.EndReason, ended_by: str | None) -> list[Event]:
    """S10: every activity stops, then the session ends (which removes every participant)."""
    return [
        *_end_activities(s, session.ActivityEndReason.SESSION_ENDED),
        session.SessionEnded(reason=reason, ended_by=ended_by),
    ]


# --- S1, S2, S3: start --------------------------------------------------------------------------


def start_session(
    cmd: session.StartSession,
    *,
    session_id: UUID,
    number: str,
    csr: Csr,
    site: session.SiteSettings,
) -> list[Event]:
    limit = csr.session_limit(site)
    if len(csr.controls) >= limit:
        if limit == 1:
            raise StateForbids(
                "session_limit",
                "you already run a live session; end it first (single-session mode)",
            )
        raise StateForbids(
            "session_limit", f"you already run {limit} live sessions, the most this site allows"
        )
    return [
        session.SessionStarted(
            session_id=session_id,
            session_number=number,
            csr_id=cmd.csr_id,
            csr_name=cmd.csr_name,
            email_invite=cmd.email_invite,
        )
    ]


def open_requested_session(
    cmd: session.OpenRequestedSession, *, session_id: UUID, number: str, customer_id: str
) -> list[Event]:
    """R8: a customer's entry form opens a session that waits in the queue."""
    return [
        session.SessionRequested(
            session_id=session_id, session_number=number, customer_id=customer_id, **cmd.request()
        )
    ]


# --- S5, S7: joining ----------------------------------------------------------------------------


def join_as_customer(
    s: Session, cmd: session.JoinAsCustomer, *, participant_id: str, site: session.SiteSettings
) -> list[Event]:
    running(s)
    if participant_id in s.participants:
        raise StateForbids("already_in_session", "that participant is in this session already")
    customers = len(s.customers())
    if customers and not site.multiple_customers_allowed:
        raise StateForbids("one_customer_only", "this site allows one customer per session")
    if customers >= site.max_customers_per_session:
        raise StateForbids(
            "customer_limit",
            f"the session already has {customers} customers, the most this site allows",
        )
    via = "invitation" if cmd.invitation_id else "session_number"
    joined: list[Event] = [
        session.CustomerJoined(
            participant_id=participant_id, name=cmd.name, via=via, invitation_id=cmd.invitation_id
        )
    ]
    if s.active_customer is None:  # the first customer is the active one until changed
        joined.append(session.ActiveCustomerSelected(participant_id=participant_id))
    return joined


def join_as_assistant(s: Session, cmd: session.JoinAsAssistant) -> list[Event]:
    running(s)
    if cmd.csr_id in s.participants:
        raise StateForbids("already_in_session", "you are in this session already")
    via = "invitation" if cmd.invitation_id else "session_number"
    return [
        session.AssistantJoined(
            csr_id=cmd.csr_id, name=cmd.name, via=via, invitation_id=cmd.invitation_id
        )
    ]


def select_active_customer(s: Session, cmd: session.SelectActiveCustomer) -> list[Event]:
    """S5: switching the active customer ends every running sharing activity at once."""
    _controller(s, cmd.actor_id)
    role = s.role_of(cmd.participant_id)
    if role is None:
        raise NotFound("not_in_session", "that participant is not in the session")
    if role is not Role.CUSTOMER:
        raise Invalid("not_a_customer", "only a customer can be the active customer")
    if s.active_customer == cmd.participant_id:
        return []
    sharing = [a for a in s.activities.values() if a.kind in SHARING]
    return [
        *(
            session.ActivityEnded(
                activity_id=a.id,
                kind=a.kind,
                reason=session.ActivityEndReason.ACTIVE_CUSTOMER_CHANGED,
            )
            for a in sharing
        ),
        session.ActiveCustomerSelected(participant_id=cmd.participant_id),
    ]


# --- S6, M2: activities -------------------------------------------------------------------------


def start_activity(s: Session, cmd: session.StartActivity, *, activity_id: UUID) -> list[Event]:
    running(s)
    if s.role_of(cmd.participant_id) is None:
        raise NotFound("not_in_session", "that participant is not in the session")
    own_sharing = cmd.kind in SHARING and cmd.actor_id == cmd.participant_id == s.active_customer
    if cmd.actor_id != s.controller and not own_sharing:
        raise NotAllowed(
            "not_controller",
            "only the controller starts activities; the active customer may share its own screen",
        )
    if any(a.kind is cmd.kind for a in s.activities.values()):
        raise StateForbids("already_running", f"{cmd.kind.value} is running already")
    return [
        session.ActivityStarted(
            activity_id=activity_id, kind=cmd.kind, started_by=cmd.participant_id
        )
    ]


def end_activity(s: Session, cmd: session.EndActivity) -> list[Event]:
    running(s)
    activity = s.activities.get(cmd.activity_id)
    if activity is None:
        raise NotFound("no_such_activity", "that activity is not running")
    if cmd.actor_id not in (s.controller, activity.started_by):
        raise NotAllowed("not_controller", "only the controller or who started it can stop it")
    return [
        session.ActivityEnded(
            activity_id=activity.id, kind=activity.kind, reason=session.ActivityEndReason.STOPPED
        )
    ]


# --- S8: transfer of control --------------------------------------------------------------------


def transfer_control(s: Session, cmd: session.TransferControl, *, receiver: Csr) -> list[Event]:
    """Every activity ends at once; a voice call goes on only if the new controller's system
    supports voice. The former controller stays as an assistant."""
    _controller(s, cmd.actor_id)
    assert s.controller is not None
    if cmd.to_csr == s.controller:
        raise Invalid("already_controller", "you have control already")
    if s.role_of(cmd.to_csr) is not Role.ASSISTANT:
        raise Invalid(
            "not_an_assistant", "control goes only to an assistant who is in the session now"
        )
    return pass_control(s, cmd.to_csr, receiver)


def pass_control(
    s: Session, to_csr: str, receiver: Csr, *, taken_over_by: str | None = None
) -> list[Event]:
    """S8's transfer (and R17's take-over): every activity ends, the voice call only if the new
    controller's system does not support voice."""
    assert s.controller is not None
    voice = next((a for a in s.activities.values() if a.kind is ActivityKind.VOICE), None)
    voice_continues = voice is not None and receiver.settings.voice_supported
    kept = voice.id if voice is not None and voice_continues else None
    passed = session.ControlTransferred(
        from_csr=s.controller, to_csr=to_csr, voice_continues=voice_continues,
        taken_over_by=taken_over_by,
    )  # fmt: skip
    return [*_end_activities(s, session.ActivityEndReason.CONTROL_TRANSFERRED, keep=kept), passed]


# --- S9: hand-off to WebACD ---------------------------------------------------------------------


def _hand_off(s: Session, actor: str | None, agent: Csr, handed: Event) -> list[Event]:
    _controller(s, actor)
    assert s.controller is not None
    if not agent.settings.is_webacd_agent:
        raise NotAllowed("not_an_agent", "only a WebACD agent can hand a session off")
    return [
        *_end_activities(s, session.ActivityEndReason.HANDED_OFF),  # the voice call ends too
        handed,
        session.ParticipantLeft(
            participant_id=s.controller, role=Role.CONTROLLER, reason=session.LeaveReason.HANDED_OFF
        ),
    ]


def hand_off_to_queue(s: Session, cmd: session.HandOffToQueue, *, controller: Csr) -> list[Event]:
    handed = session.HandedToQueue(from_csr=cmd.actor_id or "", **cmd.hand_off())
    return _hand_off(s, cmd.actor_id, controller, handed)


def hand_off_to_agents(
    s: Session, cmd: session.HandOffToAgents, *, controller: Csr, agents: Mapping[str, Csr]
) -> list[Event]:
    """``agents``: the named ids' own settings; each must be a WebACD agent (issue 14.1: a
    hand-off to nobody would leave its customers waiting for good)."""
    _controller(s, cmd.actor_id)
    named = list(dict.fromkeys(cmd.agent_ids))
    if cmd.actor_id in named:
        raise Invalid("hand_off_to_self", "hand the session to other agents, not to yourself")
    unknown = [a for a in named if a not in agents or not agents[a].settings.is_webacd_agent]
    if unknown:
        raise NotFound("unknown_agent", f"no WebACD agent is called {', '.join(unknown)}")
    handed = session.HandedToAgents(
        from_csr=cmd.actor_id or "", agent_ids=named, message=cmd.message
    )
    return _hand_off(s, cmd.actor_id, controller, handed)


def assign_agent(s: Session, cmd: session.AssignAgent) -> list[Event]:
    """R6: the agent who accepted the offer becomes the controller."""
    exists(s)
    if s.status is not Status.WAITING:
        raise StateForbids("not_waiting", "the session has a controller already")
    if s.role_of(cmd.agent_id) is Role.CUSTOMER:
        raise Invalid("customer_as_agent", "a customer of this session cannot take it as agent")
    return [
        session.AgentAssigned(
            agent_id=cmd.agent_id, agent_name=cmd.agent_name, offer_id=cmd.offer_id
        )
    ]


# --- S10, S11: leaving and ending ---------------------------------------------------------------


def leave(s: Session, cmd: session.Leave) -> list[Event]:
    exists(s)
    if cmd.actor_id != cmd.participant_id:
        raise NotAllowed("not_yourself", "you can only leave yourself")
    role = s.role_of(cmd.participant_id)
    if role is None:
        raise NotFound("not_in_session", "you are not in this session")
    if role is Role.CONTROLLER:  # S11: the controller leaving ends the session
        return ending(s, session.EndReason.CONTROLLER_LEFT, cmd.participant_id)
    last_waiting_customer = s.status is Status.WAITING and [p.id for p in s.customers()] == [
        cmd.participant_id
    ]
    if last_waiting_customer:  # nobody is left to help: the request is withdrawn
        return ending(s, session.EndReason.WITHDRAWN, cmd.participant_id)
    theirs = [a for a in s.activities.values() if a.started_by == cmd.participant_id]
    return [
        *(
            session.ActivityEnded(
                activity_id=a.id, kind=a.kind, reason=session.ActivityEndReason.PARTICIPANT_LEFT
            )
            for a in theirs
        ),
        session.ParticipantLeft(
            participant_id=cmd.participant_id, role=role, reason=session.LeaveReason.LEFT
        ),
    ]


def end_session(s: Session, cmd: session.EndSession) -> list[Event]:
    exists(s)
    if cmd.actor_id != s.controller:
        raise NotAllowed(
            "not_controller", "only the controller can end the session; you may leave it"
        )
    return ending(s, session.EndReason.ENDED_BY_CONTROLLER, cmd.actor_id)


# --- S4: console presence -----------------------------------------------------------------------


def record_heartbeat(
    s: Session, cmd: session.RecordHeartbeat, *, now: datetime, site: session.SiteSettings
) -> list[Event]:
    """Recorded at most every third of the grace period: enough to tell a lapse, without an
    event per heartbeat."""
    _controller(s, cmd.actor_id)
    assert s.controller is not None
    every = timedelta(seconds=site.console_grace_seconds / 3)
    if s.console_seen_at is not None and now - s.console_seen_at < every:
        return []
    return [session.ConsoleSeen(csr_id=s.controller)]


def end_if_console_lapsed(s: Session, *, now: datetime, site: session.SiteSettings) -> list[Event]:
    """S4: a live session whose console has not been seen for the grace period ends."""
    if s.status is not Status.LIVE or s.console_seen_at is None:
        return []
    if now - s.console_seen_at <= timedelta(seconds=site.console_grace_seconds):
        return []
    return ending(s, session.EndReason.CONSOLE_CLOSED, None)
