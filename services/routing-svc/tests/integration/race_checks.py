"""What the many-replicas tests check in the event log afterwards (and tell when it fails):
sessions settled, offers only to agents with room and with the skills, each replica's view
against the log."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from uuid import UUID

from routing_svc.bootstrap import RoutingService
from routing_svc.domain.skills import requirement
from support_contracts import Envelope
from support_contracts.routing import QueueDefinition


def settled(events: list[Envelope]) -> tuple[set[str], set[str]]:
    """Sessions assigned, and sessions that wait because every agent they were handed to by
    name declined them (R4: a decliner is not offered the session again)."""
    assigned = {e.data["session_id"] for e in events if e.type == "OfferAccepted"}
    named = {
        e.data["session_id"]: set(e.data["agent_ids"]) for e in events if e.type == "TaskQueued"
    }
    declined: defaultdict[str, set[str]] = defaultdict(set)
    for e in events:
        if e.type == "OfferDeclined":
            declined[e.data["session_id"]].add(e.data["agent_id"])
    stuck = {s for s, agents in named.items() if agents and agents <= declined[s]} - assigned
    return assigned, stuck


def unsettled(events: list[Envelope], handled: list[UUID]) -> str:
    """The sessions neither assigned nor stuck, each with what the log says of it."""
    assigned, stuck = settled(events)
    left = sorted({str(h) for h in handled} - assigned - stuck)
    told = [f"{s}: {[e.type for e in events if e.data.get('session_id') == s]}" for s in left[:5]]
    status: dict[str, tuple[str, str | None]] = {}
    wrapping: Counter[str] = Counter()
    for e in sorted(events, key=lambda e: e.global_position):
        if e.type == "AgentStatusChanged":
            status[e.data["agent_id"]] = (e.data["status"], e.data.get("reason"))
        elif e.type in ("WrapUpStarted", "WrapUpFinished"):
            wrapping[e.data["agent_id"]] += 1 if e.type == "WrapUpStarted" else -1
    kinds = Counter(e.type for e in events)
    return (
        f"{len(left)} sessions not settled:\n"
        + "\n".join(told)
        + f"\nevents: {dict(kinds)}\nagents not available: "
        + f"{ {a: s for a, s in status.items() if s[0] != 'available'} }"
        + f"\nwrapping up: {+wrapping}"
    )


def views_against_log(replicas: list[RoutingService], events: list[Envelope]) -> str:
    """Each replica's view of the agents whose sessions, wrap-ups or open offers differ from
    what ``events`` (the log, read just before) says: a view that lost count would show here
    as agents at full load that the log has free. (Offers the leader made since the read show
    too: an escalated session is offered to every agent at once, a slot of each.)"""
    sessions: defaultdict[str, set[str]] = defaultdict(set)
    wrapping: defaultdict[str, set[str]] = defaultdict(set)
    offers: defaultdict[str, set[str]] = defaultdict(set)
    for e in sorted(events, key=lambda e: e.global_position):
        agent, session = e.data.get("agent_id") or "", e.data.get("session_id") or ""
        match e.type:
            case "OfferMade":
                offers[agent].add(e.data["offer_id"])
            case "OfferAccepted" | "OfferDeclined" | "OfferExpired" | "OfferWithdrawn":
                offers[agent].discard(e.data["offer_id"])
            case "AgentSessionStarted":
                sessions[agent].add(session)
            case "AgentSessionFinished":
                sessions[agent].discard(session)
            case "WrapUpStarted":
                wrapping[agent].add(session)
            case "WrapUpFinished":
                wrapping[agent].discard(session)
    told = []
    for n, replica in enumerate(replicas):
        view = replica.router.view
        told.append(f"replica {n} at {view.position} (leading {replica.router.leading}):")
        for agent in sorted(view.agents.values(), key=lambda a: a.id):
            mine = ({str(s) for s in agent.sessions}, {str(s) for s in agent.wrap_ups},
                    {str(o) for o in agent.offers})  # fmt: skip
            logged = (sessions[agent.id], wrapping[agent.id], offers[agent.id])
            if mine != logged:
                told.append(f"  {agent.id} {agent.status}: view {mine}, log {logged}")
    return "\n".join(told)


def assert_offered_only_with_the_skills(
    events: list[Envelope], skills: dict[str, dict[str, int]]
) -> None:
    """R9: each offer of a session of the skilled queue went to an agent with the skills it
    needed as long as it had waited by then (an offer's time is at or after the decision's,
    so this is never stricter than the router was); named hand-offs, and offers in the
    overflow queue of an overflowed session (its members need no skills), are not bound."""
    definitions: dict[str, QueueDefinition] = {}
    queued: dict[str, tuple[str | None, datetime, list[str]]] = {}
    overflowed: set[str] = set()
    members: dict[str, set[str]] = {}
    bound = 0
    for e in sorted(events, key=lambda e: e.global_position):
        match e.type:
            case "QueueConfigured":
                definitions[e.data["queue_id"]] = QueueDefinition(**e.data["definition"])
                members[e.data["queue_id"]] = set(e.data["definition"]["agent_ids"])
            case "TaskQueued":
                queue_id, added = e.data.get("queue_id"), e.data.get("skills") or []
                queued[e.data["session_id"]] = (queue_id, e.occurred_at, added)
            case "TaskOverflowed":
                overflowed.add(e.data["session_id"])
            case "OfferMade":
                queue_id, at, added = queued[e.data["session_id"]]
                definition = definitions.get(queue_id or "")
                agent = e.data["agent_id"]
                if definition is None or not definition.required_skills:
                    continue
                overflow = str(definition.overflow_queue_id)
                if e.data["session_id"] in overflowed and agent in members[overflow]:
                    continue
                needs = requirement(definition, added, queued_at=at, now=e.occurred_at)
                if needs is not None:
                    bound += 1
                    assert needs.score(skills[agent]) is not None, f"{agent} lacks {needs}"
    assert bound, "no offer was bound by skills"


def assert_offered_only_with_room(events: list[Envelope], capacity: int) -> None:
    """In the log's order: no offer to an agent whose sessions, wrap-ups and open offers fill
    its capacity (R3, R11), nor to one who is away or offline (R3, R13)."""
    sessions: Counter[str] = Counter()
    wrapping: Counter[str] = Counter()
    offers: dict[str, set[str]] = defaultdict(set)
    away: set[str] = set()
    told: dict[str, list[str]] = defaultdict(list)  # each agent's last events, for a failure
    for e in sorted(events, key=lambda e: e.global_position):
        agent = e.data.get("agent_id")
        if agent is not None:
            told[agent] = [*told[agent][-11:], f"{e.global_position} {e.occurred_at} {e.type}"]
            told[agent][-1] += f" {e.stream_id} {dict(e.data)}"
        match e.type:
            case "OfferMade":
                room = capacity - sessions[agent] - wrapping[agent] - len(offers[agent])
                history = "\n".join(told[agent])
                assert room > 0, f"{agent} offered work with no room:\n{history}"
                assert agent not in away, f"{agent} offered work while away:\n{history}"
                offers[agent].add(e.data["offer_id"])
            case "OfferAccepted" | "OfferDeclined" | "OfferExpired" | "OfferWithdrawn":
                offers[agent].discard(e.data["offer_id"])
            case "AgentSessionStarted":
                sessions[agent] += 1
            case "AgentSessionFinished":
                sessions[agent] -= 1
            case "WrapUpStarted":
                wrapping[agent] += 1
            case "WrapUpFinished":
                wrapping[agent] -= 1
            case "AgentStatusChanged":
                (away.discard if e.data["status"] == "available" else away.add)(agent)
