"""R11: after a session of a queue with a wrap-up ends, its agent's slot stays taken for the
queue's ``wrap_up_seconds``, or until the agent finishes the wrap-up, with a code of the queue's
list where the queue requires one. Pure: time comes in."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from routing_svc.domain.state import AgentState
from support_contracts import Event
from support_contracts.refusals import Invalid, StateForbids
from support_contracts.routing import (
    AgentSessionFinished,
    FinishWrapUp,
    QueueDefinition,
    WrapUpFinished,
    WrapUpStarted,
)


def start_wrap_up(
    finished: AgentSessionFinished, queue_id: UUID, queue: QueueDefinition, *, now: datetime
) -> list[Event]:
    """The wrap-up that follows the end of a session of ``queue`` (none if it has none)."""
    if not queue.wrap_up_seconds:
        return []
    return [
        WrapUpStarted(
            agent_id=finished.agent_id,
            session_id=finished.session_id,
            queue_id=queue_id,
            until=now + timedelta(seconds=queue.wrap_up_seconds),
            codes=list(queue.wrap_up_codes or []),
            code_required=bool(queue.wrap_up_code_required),
        )
    ]


def finish_wrap_up(agent: AgentState, cmd: FinishWrapUp) -> list[Event]:
    """The agent is done with the session: its slot is free (R7 offers it work at once)."""
    started = agent.wrap_ups.get(cmd.session_id)
    if started is None:
        raise StateForbids("not_wrapping_up", "you are not wrapping up that session")
    if cmd.code is None and started.code_required:
        raise Invalid(
            "code_required", f"this queue wants a wrap-up code: one of {', '.join(started.codes)}"
        )
    if cmd.code is not None and cmd.code not in started.codes:
        known = ", ".join(started.codes) or "none"
        raise Invalid("unknown_code", f"{cmd.code!r} is not one of the queue's codes: {known}")
    return [WrapUpFinished(agent_id=cmd.agent_id, session_id=cmd.session_id, code=cmd.code)]


def time_out_wrap_up(agent: AgentState, session_id: UUID, *, now: datetime) -> list[Event]:
    """A wrap-up whose time ran out ends without a code (nothing if it ended already)."""
    started = agent.wrap_ups.get(session_id)
    if agent.id is None or started is None or now < started.until:
        return []
    return [WrapUpFinished(agent_id=agent.id, session_id=session_id, timed_out=True)]


def check_wrap_up_settings(definition: QueueDefinition) -> None:
    """R11: codes are named once; a code is required only where there are codes and a wrap-up."""
    codes = definition.wrap_up_codes or []
    if len(set(codes)) != len(codes):
        raise Invalid("code_twice", "name each wrap-up code once")
    if definition.wrap_up_code_required and not (codes and definition.wrap_up_seconds):
        raise Invalid(
            "code_required_without_codes",
            "a wrap-up code can be required only with wrap_up_seconds and wrap_up_codes",
        )
