"""The service's side: a durable quorum queue of commands, handled concurrently, each answered
on its ``reply_to`` and then acknowledged."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue
from opentelemetry.trace import SpanKind
from pamqp.commands import Basic
from prometheus_client import Counter, Histogram

from support_contracts.refusals import Refusal
from support_contracts.topology import QUORUM
from support_rpc import tracing
from support_rpc.amqp import Amqp, Connect

log = structlog.get_logger(__name__)

ANSWERED = Counter(
    "support_commands_total", "Commands and queries answered", ["queue", "type", "outcome"]
)
ANSWER_SECONDS = Histogram(
    "support_command_seconds", "Time from taking a command to its answer", ["queue", "type"]
)


Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


async def declare_command_queue(channel: AbstractChannel, name: str) -> AbstractQueue:
    """How a command queue is declared, by the service and by its callers alike."""
    return await channel.declare_queue(name, durable=True, arguments=QUORUM)


class Answering:
    """A request's body answered by ``handler``, as the wire format says (the reply as a dict),
    with its metrics: over RabbitMQ (``RpcServer``) and in one process (``support_rpc.memory``)
    alike."""

    def __init__(self, queue: str, handler: Handler) -> None:
        self.queue, self._handler = queue, handler
        self._children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    async def __call__(
        self, body: bytes, headers: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        try:
            request = json.loads(body)
            command_type, command = request["type"], request["command"]
            if not isinstance(command_type, str) or not isinstance(command, dict):
                raise TypeError("type must be a string and command an object")
        except (ValueError, KeyError, TypeError) as error:
            ANSWERED.labels(self.queue, "?", "bad_request").inc()
            return _error(400, "bad_request", f"not a request: {error}")
        began, outcome = time.perf_counter(), "ok"
        # every log line while this command runs says which request it belongs to
        structlog.contextvars.bind_contextvars(
            correlation_id=str(command.get("correlation_id")), command_type=command_type
        )
        span = tracing.tracer.start_as_current_span(
            f"{self.queue} {command_type}", context=tracing.incoming(headers), kind=SpanKind.SERVER
        )
        try:
            with span:
                return {"ok": True, "result": await self._handler(command_type, command)}
        except Refusal as refusal:
            outcome = "refused" if refusal.status < 500 else "failed"
            return {"ok": False, "error": refusal.as_reply()}
        except Exception as error:  # a bug: answer, log, and do not redeliver it forever
            outcome = "failed"
            log.exception("rpc.handler_failed", queue=self.queue, command_type=command_type)
            return _error(500, "internal", f"{type(error).__name__}: the service failed")
        finally:
            answered, seconds = self._metrics(command_type, outcome)
            answered.inc()
            seconds.observe(time.perf_counter() - began)

    def _metrics(self, command_type: str, outcome: str) -> tuple[Counter, Histogram]:
        """The counter and the histogram of a command type and outcome, looked up once (a
        lookup takes the metric's lock and builds its label key, every command)."""
        key = (command_type, outcome)
        found = self._children.get(key)
        if found is None:
            kind = command_type if command_type.isidentifier() else "?"
            found = (ANSWERED.labels(self.queue, kind, outcome),
                     ANSWER_SECONDS.labels(self.queue, kind))  # fmt: skip
            if len(self._children) < 1_000:  # the types a service knows, and a few unknown
                self._children[key] = found
        return found


class RpcServer:
    """Its channel on a connection of its own (from a url) or the process's shared one; both
    come back by themselves after the broker did, and its consumer with them."""

    def __init__(
        self, source: str | Connect, queue: str, handler: Handler, *, prefetch: int = 32
    ) -> None:
        self.queue, self._prefetch = queue, prefetch
        self._amqp = Amqp(source)
        self._answer = Answering(queue, handler)
        self._stopped = False
        self._channel: AbstractChannel | None = None
        self._consumer_tag: str | None = None
        self.answered = 0
        self._in_flight = 0
        self._drained = asyncio.Event()
        self._drained.set()

    async def start(self) -> RpcServer:
        connection = await self._amqp.open()
        self._channel = await connection.channel()
        await self._channel.set_qos(prefetch_count=self._prefetch)
        queue = await declare_command_queue(self._channel, self.queue)
        self._consumer_tag = await queue.consume(self._on_request)
        return self

    @property
    def queue_name(self) -> str:
        return self.queue

    async def ready(self) -> None:
        """Raises unless it is connected and taking commands."""
        if self._stopped or not await self._amqp.ready(self._channel):
            raise RuntimeError(f"{self.queue}: not connected to the broker")

    async def _on_request(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._drained.clear()
        try:
            reply = await self._answer(message.body, message.headers)
            if message.reply_to and self._channel is not None:
                channel = await self._channel.get_underlay_channel()
                await channel.basic_publish(
                    json.dumps(reply).encode(),
                    routing_key=message.reply_to,
                    properties=Basic.Properties(
                        content_type="application/json", correlation_id=message.correlation_id
                    ),
                )
            await message.ack()
            self.answered += 1
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._drained.set()

    async def stop(self, *, grace_seconds: float = 10.0) -> None:
        """Stop taking requests, answer those in hand (for up to ``grace_seconds``); those not
        yet taken, and any still unanswered then, go back to the queue. A request that was
        carried out is answered rather than handed to another replica to do again. Stopping
        again does nothing (a closed robust connection would wait for a reconnect forever)."""
        if self._stopped or self._amqp.connection is None:
            return
        self._stopped = True
        if self._channel is not None and self._consumer_tag is not None:
            try:  # with the broker away, a robust channel would wait for it forever
                queue = await self._channel.get_queue(self.queue, ensure=False)
                await asyncio.wait_for(queue.cancel(self._consumer_tag), grace_seconds)
            except Exception as error:
                log.warning("rpc.cancel_failed", queue=self.queue, error=repr(error))
        try:
            await asyncio.wait_for(self._drained.wait(), grace_seconds)
        except TimeoutError:
            log.warning("rpc.stopped_with_requests_in_hand", queue=self.queue, left=self._in_flight)
        try:
            await asyncio.wait_for(self._amqp.close(self._channel), grace_seconds)
        except Exception as error:
            log.warning("rpc.close_failed", queue=self.queue, error=repr(error))


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"status": status, "code": code, "message": message}}
