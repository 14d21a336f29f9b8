"""A routing world for the rules: one log (in memory or PostgreSQL), a fake clock, the session
events delivered through the real inbox, the router stepped by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypedDict, Unpack
from uuid import UUID, uuid4

from eventlog import EventStore, Inbox, NewEvent
from routing_svc.entrypoints import session_event_handler
from routing_svc.router import Router
from routing_svc.view import RoutingView
from routing_svc.writing import RoutingLog
from support_contracts import Event
from support_contracts.routing import (
    AcceptOffer,
    ChangeAgentStatus,
    ConfigureAgent,
    ConfigureQueue,
    DeclineOffer,
    FinishWrapUp,
    OpeningHours,
    QueueDefinition,
)
from support_contracts.session import EndReason, HandedToAgents, HandedToQueue, SessionEnded
from support_contracts.vocabulary import AgentStatus, RoutingPolicy
from support_testkit.clock import FakeClock

ALWAYS = [OpeningHours(weekday=d, opens=time(0), closes=time(23, 59, 59)) for d in range(7)]
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def command(kind: type[Any], **fields: Any) -> Any:
    return kind.new(**fields)


class HandOff(TypedDict, total=False):
    """How a test hands a session off, beside where to."""

    agents: list[str]
    priority: int | None
    preferred: str | None
    skills: list[str] | None


class World:
    def __init__(self, store: EventStore, clock: FakeClock | None = None) -> None:
        self.store, self.clock = store, clock or FakeClock(T0)
        self.handlers = RoutingLog(store, clock=self.clock.now)
        self.inbox = Inbox(store, "routing-svc", session_event_handler(self.handlers))
        self.router = self.new_router()
        self.router.leading = True
        self._session_versions: dict[UUID, int] = {}

    @property
    def view(self) -> RoutingView:
        return self.router.view

    def new_router(self) -> Router:
        """A router as a restarted replica has it: an empty view, rebuilt from the log."""
        return Router(self.handlers, RoutingView(named_offer_timeout=timedelta(seconds=60)))

    # --- admins and agents ----------------------------------------------------------------------

    async def queue(
        self,
        agents: list[str],
        policy: RoutingPolicy = RoutingPolicy.MOST_IDLE,
        *,
        escalation: int = 600,
        offer_timeout: int = 30,
        hours: list[OpeningHours] = ALWAYS,
        max_missed: int | None = None,
        **more: Any,
    ) -> UUID:
        definition = QueueDefinition(
            name="Printers",
            agent_ids=agents,
            policy=policy,
            time_zone="Europe/Prague",
            hours=hours,
            escalation_seconds=escalation,
            offer_timeout_seconds=offer_timeout,
            max_missed_offers=max_missed,
            **more,
        )
        return await self.handlers.configure_queue(
            command(ConfigureQueue, definition=definition), new_id=uuid4()
        )

    async def agent(
        self,
        agent_id: str,
        capacity: int = 1,
        status: AgentStatus = AgentStatus.AVAILABLE,
        skills: dict[str, int] | None = None,
    ) -> None:
        configure = command(
            ConfigureAgent,
            agent_id=agent_id, name=agent_id.title(), max_sessions=capacity, skills=skills,
        )  # fmt: skip
        await self.handlers.configure_agent(configure)
        await self.status(agent_id, status)

    async def status(self, agent_id: str, status: AgentStatus, reason: str | None = None) -> None:
        await self.handlers.change_agent_status(
            command(ChangeAgentStatus, agent_id=agent_id, status=status, reason=reason)
        )

    # --- sessions -------------------------------------------------------------------------------

    async def session_event(self, session_id: UUID, event: Event) -> None:
        """As session-svc would publish it, delivered through routing's inbox."""
        version = self._session_versions.get(session_id, 0) + 1
        self._session_versions[session_id] = version
        cause = uuid4()
        envelope = NewEvent.from_event(
            event, occurred_at=self.clock.now(), correlation_id=cause, causation_id=cause
        ).recorded(f"session-{session_id}", version, version)
        await self.inbox.handle(envelope)

    async def hand_off(self, queue_id: UUID | None = None, **how: Unpack[HandOff]) -> UUID:
        """A new session handed to ``queue_id``, or to ``agents`` when no queue is given."""
        session_id = uuid4()
        await self.hand_on(session_id, queue_id, **how)
        return session_id

    async def hand_on(
        self, session_id: UUID, queue_id: UUID | None = None, **how: Unpack[HandOff]
    ) -> None:
        """``session_id`` handed on (again)."""
        agents, priority = how.get("agents"), how.get("priority")
        preferred, skills = how.get("preferred"), how.get("skills")
        if queue_id is not None:
            event: Event = HandedToQueue(
                from_csr="csr", queue_id=queue_id, message="printer", priority=priority,
                preferred_agent=preferred, skills=skills,
            )  # fmt: skip
        else:
            event = HandedToAgents(from_csr="csr", agent_ids=agents or [])
        await self.session_event(session_id, event)

    async def end(self, session_id: UUID) -> None:
        await self.session_event(session_id, SessionEnded(reason=EndReason.ENDED_BY_CONTROLLER))

    # --- the router -----------------------------------------------------------------------------

    async def settle(self) -> None:
        """Step the router until the log stops growing and the view has read all of it: on
        PostgreSQL an event is held back from readers while an older transaction anywhere in
        the cluster runs, and a read that brought nothing then is not the end (a test failed
        so once, with benchmarks running beside it)."""
        while True:
            before = self.view.position
            await self.router.step()
            await self.router.catch_up()
            if self.view.position == before:
                head = getattr(self.store, "head", None)
                if head is None or await head() <= self.view.position:
                    return
                await asyncio.sleep(0.01)

    async def later(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await self.settle()

    def offers(self, agent_id: str) -> list[UUID]:
        """The sessions the agent has an open offer for, as the view has them."""
        agent = self.view.agents.get(agent_id)
        return sorted(agent.offers.values()) if agent else []

    def offered_to(self, session_id: UUID) -> list[str]:
        task = self.view.tasks.get(session_id)
        return sorted(o.agent_id for o in task.open_offers()) if task else []

    def _offer_id(self, agent_id: str, session_id: UUID) -> UUID:
        agent = self.view.agents[agent_id]
        [offer_id] = [o for o, s in agent.offers.items() if s == session_id]
        return offer_id

    async def accept(self, agent_id: str, session_id: UUID) -> None:
        offer_id = self._offer_id(agent_id, session_id)
        await self.handlers.accept(
            command(AcceptOffer, session_id=session_id, offer_id=offer_id, agent_id=agent_id)
        )
        await self.settle()

    async def finish_wrap_up(self, agent_id: str, session_id: UUID, code: str | None) -> None:
        await self.handlers.finish_wrap_up(
            command(FinishWrapUp, agent_id=agent_id, session_id=session_id, code=code)
        )
        await self.settle()

    async def decline(self, agent_id: str, session_id: UUID) -> None:
        offer_id = self._offer_id(agent_id, session_id)
        await self.handlers.decline(
            command(DeclineOffer, session_id=session_id, offer_id=offer_id, agent_id=agent_id)
        )
        await self.settle()

    async def recorded(self, event_type: str) -> list[dict[str, Any]]:
        return [e.data for e in await self.store.read_all(limit=100_000) if e.type == event_type]
