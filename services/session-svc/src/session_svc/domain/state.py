"""A session's state: the fold of its events (S12). ``evolve`` never refuses: the events are
facts; deciding what may happen is ``rules.py``'s job."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from functools import singledispatch
from typing import Any
from uuid import UUID

from support_contracts import Envelope, Event, session
from support_contracts.vocabulary import ActivityKind, Role


class Status(StrEnum):
    NEW = "new"  # no event yet
    LIVE = "live"  # a controller runs it
    WAITING = "waiting"  # handed off or requested: customers wait for an agent (S9, R8)
    ENDED = "ended"


@dataclass(frozen=True)
class Participant:
    id: str
    name: str
    role: Role


@dataclass(frozen=True)
class Activity:
    id: UUID
    kind: ActivityKind
    started_by: str


@dataclass(frozen=True)
class Handoff:
    queue_id: UUID | None
    agent_ids: tuple[str, ...]
    message: str | None


@dataclass(frozen=True)
class Session:
    id: UUID | None = None
    number: str | None = None
    status: Status = Status.NEW
    controller: str | None = None
    participants: dict[str, Participant] = field(default_factory=dict)
    active_customer: str | None = None
    activities: dict[UUID, Activity] = field(default_factory=dict)
    handoff: Handoff | None = None
    console_seen_at: datetime | None = None
    version: int = -1

    def customers(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.role is Role.CUSTOMER]

    def role_of(self, participant_id: str | None) -> Role | None:
        present = self.participants.get(participant_id or "")
        return present.role if present else None

    def joined(self, who: Participant, **changes: Any) -> Session:
        """The session with ``who`` among its participants, and ``changes``."""
        return replace(self, participants={**self.participants, who.id: who}, **changes)


def fold(events: list[Envelope]) -> Session:
    """The state of a session from its stream, as recorded."""
    state = Session()
    for envelope in events:
        state = replace(
            evolve(envelope.event(), state, envelope.occurred_at), version=envelope.stream_version
        )
    return state


def apply(state: Session, events: list[Event], at: datetime) -> Session:
    """The state after ``events`` that a decision returned, as if recorded at ``at``."""
    for event in events:
        state = replace(evolve(event, state, at), version=state.version + 1)
    return state


@singledispatch
def evolve(event: Event, state: Session, at: datetime) -> Session:
    return state  # events that do not change the session's state


@evolve.register
def _(event: session.SessionStarted, state: Session, at: datetime) -> Session:
    controller = Participant(event.csr_id, event.csr_name, Role.CONTROLLER)
    opened = replace(state, id=event.session_id, number=event.session_number)
    return opened.joined(
        controller, status=Status.LIVE, controller=controller.id, console_seen_at=at
    )


@evolve.register
def _(event: session.SessionRequested, state: Session, at: datetime) -> Session:
    customer = Participant(event.customer_id, event.customer_name, Role.CUSTOMER)
    opened = replace(state, id=event.session_id, number=event.session_number)
    handoff = Handoff(event.queue_id, (), None)
    return opened.joined(
        customer, status=Status.WAITING, active_customer=customer.id, handoff=handoff
    )


@evolve.register
def _(event: session.CustomerJoined, state: Session, at: datetime) -> Session:
    return state.joined(Participant(event.participant_id, event.name, Role.CUSTOMER))


@evolve.register
def _(event: session.AssistantJoined, state: Session, at: datetime) -> Session:
    return state.joined(Participant(event.csr_id, event.name, Role.ASSISTANT))


@evolve.register
def _(event: session.ActiveCustomerSelected, state: Session, at: datetime) -> Session:
    return replace(state, active_customer=event.participant_id)


@evolve.register
def _(event: session.ActivityStarted, state: Session, at: datetime) -> Session:
    started = Activity(event.activity_id, event.kind, event.started_by)
    return replace(state, activities={**state.activities, started.id: started})


@evolve.register
def _(event: session.ActivityEnded, state: Session, at: datetime) -> Session:
    remaining = {k: v for k, v in state.activities.items() if k != event.activity_id}
    return replace(state, activities=remaining)


@evolve.register
def _(event: session.ControlTransferred, state: Session, at: datetime) -> Session:
    people = dict(state.participants)
    people[event.from_csr] = replace(people[event.from_csr], role=Role.ASSISTANT)
    people[event.to_csr] = replace(people[event.to_csr], role=Role.CONTROLLER)
    return replace(state, controller=event.to_csr, participants=people)


@evolve.register
def _(event: session.HandedToQueue, state: Session, at: datetime) -> Session:
    return replace(state, status=Status.WAITING, handoff=Handoff(event.queue_id, (), event.message))


@evolve.register
def _(event: session.HandedToAgents, state: Session, at: datetime) -> Session:
    handoff = Handoff(None, tuple(event.agent_ids), event.message)
    return replace(state, status=Status.WAITING, handoff=handoff)


@evolve.register
def _(event: session.SessionRequeued, state: Session, at: datetime) -> Session:
    message = state.handoff.message if state.handoff else None
    return replace(state, handoff=Handoff(event.queue_id, (), message))


@evolve.register
def _(event: session.ParticipantLeft, state: Session, at: datetime) -> Session:
    people = {k: v for k, v in state.participants.items() if k != event.participant_id}
    active = None if state.active_customer == event.participant_id else state.active_customer
    controller = None if state.controller == event.participant_id else state.controller
    return replace(state, participants=people, active_customer=active, controller=controller)


@evolve.register
def _(event: session.AgentAssigned, state: Session, at: datetime) -> Session:
    agent = Participant(event.agent_id, event.agent_name, Role.CONTROLLER)
    return state.joined(
        agent, status=Status.LIVE, controller=agent.id, handoff=None, console_seen_at=at
    )


@evolve.register
def _(event: session.ConsoleSeen, state: Session, at: datetime) -> Session:
    return replace(state, console_seen_at=at)


@evolve.register
def _(event: session.SessionEnded, state: Session, at: datetime) -> Session:
    return replace(
        state,
        status=Status.ENDED,
        controller=None,
        participants={},
        active_customer=None,
        activities={},
        handoff=None,
    )
