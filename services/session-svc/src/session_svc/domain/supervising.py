"""R17: a supervisor (or an admin) steps in: ends any session, puts a waiting one in a queue
again, or takes over a live one. The gateway checks the role; each event names who did it.
(Ending and re-queueing began as an admin's way out for a stranded session, issue 14.2.)"""

from __future__ import annotations

from session_svc.domain.errors import Invalid, StateForbids
from session_svc.domain.rules import ending, exists, pass_control, running
from session_svc.domain.settings import Csr
from session_svc.domain.state import Session, Status
from support_contracts import Event
from support_contracts.session import (
    AssistantJoined,
    ConsoleSeen,
    EndReason,
    EndSessionAsAdmin,
    RequeueSession,
    SessionRequeued,
    TakeOverSession,
)
from support_contracts.vocabulary import Role


def end_as_admin(s: Session, cmd: EndSessionAsAdmin) -> list[Event]:
    """Any live or waiting session, whoever controls it."""
    exists(s)
    return ending(s, EndReason.ENDED_BY_ADMIN, cmd.actor_id)


def requeue(s: Session, cmd: RequeueSession) -> list[Event]:
    """A session waiting for an agent goes to a queue again, its offers begin afresh; one with a
    controller is not requeued (its controller hands it off)."""
    exists(s)
    if s.status is not Status.WAITING:
        raise StateForbids("not_waiting", "the session has a controller; only a waiting one moves")
    return [SessionRequeued(queue_id=cmd.queue_id, requeued_by=cmd.actor_id or "")]


def take_over(s: Session, cmd: TakeOverSession, *, supervisor: Csr) -> list[Event]:
    """The supervisor joins (unless assisting already) and takes control as by S8's transfer:
    every activity ends, the voice call too unless the supervisor's system supports voice, and
    the former controller stays as an assistant. The supervisor's console counts as seen now
    (S4): from here it must keep the session, as any controller's."""
    running(s)
    who = cmd.supervisor_id
    if who == s.controller:
        raise Invalid("already_controller", "you have control already")
    if s.role_of(who) is Role.CUSTOMER:
        raise Invalid("customer_as_supervisor", "a customer of this session cannot take it over")
    joined: list[Event] = []
    if s.role_of(who) is None:
        joined.append(AssistantJoined(csr_id=who, name=cmd.supervisor_name, via="supervisor"))
    return [*joined, *pass_control(s, who, supervisor, taken_over_by=who), ConsoleSeen(csr_id=who)]
