"""An in-memory stand-in for the ``support.events`` topic exchange, for the embedded demo and
fast tests: the same binding keys, retries and dead letters as the RabbitMQ wiring."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from eventlog.inbox import Inbox
from support_contracts import Envelope


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is one word, ``#`` is zero or more words."""
    return _match(pattern.split("."), routing_key.split("."))


def _match(pattern: list[str], words: list[str]) -> bool:
    if not pattern:
        return not words
    head, rest = pattern[0], pattern[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return head in ("*", words[0]) and _match(rest, words[1:])


@dataclass
class _Queue:
    binding_keys: list[str]
    messages: asyncio.Queue[tuple[Envelope, int]] = field(default_factory=asyncio.Queue)
    dead: list[tuple[Envelope, str]] = field(default_factory=list)


class InMemoryBroker:
    def __init__(self) -> None:
        self._queues: dict[str, _Queue] = {}

    def declare_queue(self, name: str, binding_keys: Sequence[str]) -> None:
        queue = self._queues.setdefault(name, _Queue(list(binding_keys)))
        queue.binding_keys = sorted(set(queue.binding_keys) | set(binding_keys))

    async def publish(self, events: Sequence[Envelope]) -> None:
        for event in events:
            for queue in self._queues.values():
                if any(topic_matches(key, event.routing_key) for key in queue.binding_keys):
                    queue.messages.put_nowait((event, 1))

    def delete_queue(self, name: str) -> None:
        self._queues.pop(name, None)

    def dead_letters(self, queue: str) -> list[tuple[Envelope, str]]:
        return list(self._queues[queue].dead)

    async def subscribe(
        self, queue_name: str, binding_keys: Sequence[str]
    ) -> AsyncIterator[Envelope]:
        """A plain subscriber (no inbox): the queue's events as they arrive, until cancelled."""
        self.declare_queue(queue_name, binding_keys)
        queue = self._queues[queue_name]
        while True:
            envelope, _ = await queue.messages.get()
            yield envelope

    async def consume(self, queue_name: str, binding_keys: Sequence[str], inbox: Inbox) -> None:
        """Feed the queue to ``inbox`` until cancelled, in order, one at a time."""
        self.declare_queue(queue_name, binding_keys)
        queue = self._queues[queue_name]
        while True:
            envelope, attempt = await queue.messages.get()
            verdict = await inbox.deliver(envelope, attempt)
            if verdict.dead:
                queue.dead.append((envelope, verdict.error or ""))
