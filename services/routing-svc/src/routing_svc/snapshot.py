"""Routing's view in a snapshot (issue 13: a start restores the latest and folds only what came
after): the agents and the tasks as rows, the rest as it is."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventlog.snapshots import json_array
from routing_svc.domain.state import Offer, Task, TaskStatus
from routing_svc.view_parts import AgentView
from support_contracts.routing import (
    QueueConfigured,
    WrapUpStarted,
)
from support_contracts.vocabulary import AgentStatus

if TYPE_CHECKING:
    from routing_svc.view import RoutingView


async def dump(view: RoutingView) -> bytes | None:
    """What the log made of the view, as of ``position`` (issue 13: a start restores it and
    folds only what came after); None while it holds offers the router has decided and the
    log does not have yet. The indexes (pools, the waiting orders, timers) are rebuilt on
    restore; the round-robin cursor, the leader's own, starts again. The agents and the
    tasks are dumped in turns (only the router's task, which folds the view, awaits it)."""
    if any(not o.recorded for t in view.tasks.values() for o in t.offers.values()):
        return None
    agents = await json_array(list(view.agents.values()), _agent_row)
    tasks = await json_array(list(view.tasks.values()), _task_row)
    rest = json.dumps({
        "queues": {str(q): d.model_dump(mode="json") for q, d in view.queues.items()},
        "keys": {str(s): [k[0].isoformat(), k[1]] for s, k in view.keys.items()},
        "requests": {str(r): str(s) for r, s in view.requests.items()},
        "holding": {str(s): [_str(q), at.isoformat()] for s, (q, at) in view.holding.items()},
        "handling": {str(q): list(h) for q, h in view.handling.items()},
        "statistics": view.statistics.dump(),
    }).encode()  # fmt: skip
    return b'{"agents": ' + agents + b', "tasks": ' + tasks + b", " + rest[1:]


def restore(view: RoutingView, position: int, state: bytes) -> None:
    """The view as ``dump`` left it, folded up to ``position``; its indexes rebuilt."""
    saved = json.loads(state)
    for row in saved["agents"]:
        agent = _agent_of(row)
        view.agents[agent.id] = agent
    for queue_id, definition in saved["queues"].items():
        view.on_queue(QueueConfigured(queue_id=queue_id, definition=definition))
    view.requests = {UUID(r): UUID(s) for r, s in saved["requests"].items()}
    view.holding = {
        UUID(s): (_uuid(q), datetime.fromisoformat(at)) for s, (q, at) in saved["holding"].items()
    }
    for queue_id, samples in saved["handling"].items():
        view.handling[UUID(queue_id)].extend(samples)
    view.statistics.restore(saved["statistics"])
    for row in saved["tasks"]:
        task = _task_of(row)
        assert task.session_id is not None
        at, global_position = saved["keys"][str(task.session_id)]
        view.keys[task.session_id] = (
            datetime.fromisoformat(at),
            global_position,
            task.session_id,
        )
        view.set_task(task)
    view.everything_dirty()
    view.position = position


def _str(value: object | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _agent_row(a: AgentView) -> list[object]:
    offers = {str(o): str(s) for o, s in a.offers.items()}
    missed_cause = [str(x) for x in a.missed_cause] if a.missed_cause else None
    return [a.id, a.name, a.capacity, a.configured, a.status.value, sorted(map(str, a.sessions)),
            offers, _iso(a.free_since), a.reason, _iso(a.since), a.spent, a.missed,
            a.missed_limit, missed_cause,
            {str(s): [w.model_dump(mode="json"), str(c)] for s, (w, c) in a.wrap_ups.items()},
            a.skills]  # fmt: skip


def _agent_of(row: list[Any]) -> AgentView:
    (agent_id, name, capacity, configured, status, sessions, offers, free_since, reason, since,
     spent, missed, missed_limit, missed_cause, wrap_ups, skills) = row  # fmt: skip
    return AgentView(
        agent_id, name, capacity, configured, AgentStatus(status), {UUID(s) for s in sessions},
        {UUID(o): UUID(s) for o, s in offers.items()}, _time(free_since), reason, _time(since),
        dict(spent), missed, missed_limit,
        (UUID(missed_cause[0]), UUID(missed_cause[1])) if missed_cause else None,
        {UUID(s): (WrapUpStarted.model_validate(w), UUID(c)) for s, (w, c) in wrap_ups.items()},
        dict(skills),
    )  # fmt: skip


def _task_row(t: Task) -> dict[str, object]:
    return {
        "id": _str(t.id), "session_id": _str(t.session_id), "queue_id": _str(t.queue_id),
        "named_agents": list(t.named_agents), "status": t.status.value,
        "queued_at": _iso(t.queued_at), "message": t.message,
        "request_id": _str(t.request_id), "priority": t.priority,
        "preferred_agent": t.preferred_agent, "overflow_queue_id": _str(t.overflow_queue_id),
        "skills": list(t.skills), "correlation_id": _str(t.correlation_id),
        "cause": _str(t.cause), "escalated": t.escalated,
        "offers": [[str(o.id), o.agent_id, o.expires_at.isoformat(), o.open]
                   for o in t.offers.values()],
        "declined": sorted(t.declined), "passed": sorted(t.passed),
        "assigned_to": t.assigned_to, "accepted_offer": _str(t.accepted_offer),
        "version": t.version,
    }  # fmt: skip


def _task_of(row: dict[str, Any]) -> Task:
    offers = {
        UUID(o): Offer(UUID(o), agent, datetime.fromisoformat(expires), is_open)
        for o, agent, expires, is_open in row["offers"]
    }
    return Task(
        id=_uuid(row["id"]), session_id=_uuid(row["session_id"]), queue_id=_uuid(row["queue_id"]),
        named_agents=tuple(row["named_agents"]), status=TaskStatus(row["status"]),
        queued_at=_time(row["queued_at"]), message=row["message"],
        request_id=_uuid(row["request_id"]), priority=row["priority"],
        preferred_agent=row["preferred_agent"], overflow_queue_id=_uuid(row["overflow_queue_id"]),
        skills=tuple(row["skills"]), correlation_id=_uuid(row["correlation_id"]),
        cause=_uuid(row["cause"]), escalated=row["escalated"], offers=offers,
        declined=frozenset(row["declined"]), passed=frozenset(row["passed"]),
        assigned_to=row["assigned_to"], accepted_offer=_uuid(row["accepted_offer"]),
        version=row["version"],
    )  # fmt: skip
