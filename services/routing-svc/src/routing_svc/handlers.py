"""The recipe for routing commands (in progress: configuring queues and agents, accepting and
declining offers). An accept
appends to the task's stream and to the agent's stream in one transaction, each with its
expected version, so exactly one agent wins a task and none goes over capacity, whatever the
number of replicas (R6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from eventlog import EventStore, NewEvent, Transaction, retrying
from routing_svc.domain.queues import change_agent_status, configure_agent, configure_queue
from routing_svc.domain.tasks import (
    AgentState,
    Task,
    accept_offer,
    decline_offer,
    fold_agent,
    fold_task,
)
from support_contracts import Command, Envelope, Event
from support_contracts.routing import (
    AcceptOffer,
    ChangeAgentStatus,
    ConfigureAgent,
    ConfigureQueue,
    DeclineOffer,
)


def task_stream(task_id: UUID) -> str:
    return f"task-{task_id}"


def agent_stream(agent_id: str) -> str:
    return f"agent-{agent_id}"


def queue_stream(queue_id: UUID) -> str:
    return f"queue-{queue_id}"


def utc_now() -> datetime:
    return datetime.now(UTC)


class RoutingHandlers:
    def __init__(self, store: EventStore, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.store, self.now = store, clock

    async def configure_queue(self, cmd: ConfigureQueue, *, new_id: UUID) -> UUID:
        """R1: a new queue (``new_id``) or a new definition of an existing one."""
        queue_id = cmd.queue_id or new_id
        events = configure_queue(cmd.definition, queue_id=queue_id)

        async def once(tx: Transaction) -> UUID:
            version = await tx.stream_version(queue_stream(queue_id))
            await self._append(tx, cmd, queue_stream(queue_id), events, version)
            return queue_id

        return await retrying(self.store, once)

    async def configure_agent(self, cmd: ConfigureAgent) -> AgentState:
        return await self._agent_change(cmd, cmd.agent_id, lambda _: configure_agent(cmd))

    async def change_agent_status(self, cmd: ChangeAgentStatus) -> AgentState:
        return await self._agent_change(
            cmd, cmd.agent_id, lambda agent: change_agent_status(agent, cmd)
        )

    async def _agent_change(
        self, cmd: Command, agent_id: str, decide: Callable[[AgentState], list[Event]]
    ) -> AgentState:
        async def once(tx: Transaction) -> AgentState:
            agent = fold_agent(await tx.read_stream(agent_stream(agent_id)))
            stream = agent_stream(agent_id)
            return fold_agent(
                await self._append(tx, cmd, stream, decide(agent), agent.version), agent
            )

        return await retrying(self.store, once)

    async def accept(self, cmd: AcceptOffer) -> Task:
        async def once(tx: Transaction) -> Task:
            task = fold_task(await tx.read_stream(task_stream(cmd.task_id)))
            agent = fold_agent(await tx.read_stream(agent_stream(cmd.agent_id)))
            task_events, agent_events = accept_offer(
                task, agent, cmd.offer_id, cmd.agent_id, now=self.now()
            )
            taken = await self._append(tx, cmd, task_stream(cmd.task_id), task_events, task.version)
            await self._append(tx, cmd, agent_stream(cmd.agent_id), agent_events, agent.version)
            return fold_task(taken, task)

        return await retrying(self.store, once)

    async def decline(self, cmd: DeclineOffer) -> Task:
        async def once(tx: Transaction) -> Task:
            task = fold_task(await tx.read_stream(task_stream(cmd.task_id)))
            events = decline_offer(task, cmd.offer_id, cmd.agent_id)
            declined = await self._append(tx, cmd, task_stream(cmd.task_id), events, task.version)
            return fold_task(declined, task)

        return await retrying(self.store, once)

    async def _append(
        self, tx: Transaction, cmd: Command, stream: str, events: list[Event], version: int
    ) -> list[Envelope]:
        now = self.now()
        return await tx.append(
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
