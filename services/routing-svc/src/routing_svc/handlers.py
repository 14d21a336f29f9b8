"""The recipe for routing commands (in progress: accepting and declining offers). An accept
appends to the task's stream and to the agent's stream in one transaction, each with its
expected version, so exactly one agent wins a task and none goes over capacity, whatever the
number of replicas (R6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from eventlog import EventStore, NewEvent, Transaction, retrying
from routing_svc.domain.tasks import Task, accept_offer, decline_offer, fold_agent, fold_task
from support_contracts import Command, Event
from support_contracts.routing import AcceptOffer, DeclineOffer


def task_stream(task_id: UUID) -> str:
    return f"task-{task_id}"


def agent_stream(agent_id: str) -> str:
    return f"agent-{agent_id}"


def utc_now() -> datetime:
    return datetime.now(UTC)


class RoutingHandlers:
    def __init__(self, store: EventStore, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.store, self.now = store, clock

    async def accept(self, cmd: AcceptOffer) -> Task:
        async def once(tx: Transaction) -> Task:
            task = fold_task(await tx.read_stream(task_stream(cmd.task_id)))
            agent = fold_agent(await tx.read_stream(agent_stream(cmd.agent_id)))
            task_events, agent_events = accept_offer(
                task, agent, cmd.offer_id, cmd.agent_id, now=self.now()
            )
            await self._append(tx, cmd, task_stream(cmd.task_id), task_events, task.version)
            await self._append(tx, cmd, agent_stream(cmd.agent_id), agent_events, agent.version)
            return fold_task(await tx.read_stream(task_stream(cmd.task_id)))

        return await retrying(self.store, once)

    async def decline(self, cmd: DeclineOffer) -> Task:
        async def once(tx: Transaction) -> Task:
            task = fold_task(await tx.read_stream(task_stream(cmd.task_id)))
            events = decline_offer(task, cmd.offer_id, cmd.agent_id)
            await self._append(tx, cmd, task_stream(cmd.task_id), events, task.version)
            return fold_task(await tx.read_stream(task_stream(cmd.task_id)))

        return await retrying(self.store, once)

    async def _append(
        self, tx: Transaction, cmd: Command, stream: str, events: list[Event], version: int
    ) -> None:
        now = self.now()
        await tx.append(
            stream,
            [
                NewEvent.from_event(
                    e,
                    occurred_at=now,
                    correlation_id=cmd.correlation_id,
                    causation_id=cmd.command_id,
                )
                for e in events
            ],
            version,
        )
