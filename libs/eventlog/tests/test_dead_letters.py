"""Issue 13.8: ops list a consumer's dead letters with their errors, and re-drive them once the
cause is fixed; the consumer then handles each once (real RabbitMQ and PostgreSQL)."""

from __future__ import annotations

import pytest

from eventlog import NO_STREAM, Inbox, Transaction
from eventlog.dead_letters import list_dead, redrive
from eventlog.postgres import PostgresEventStore
from support_contracts import Envelope
from support_testkit import eventually
from support_testkit.plugin import RabbitNames

from .factories import new_events
from .wiring import RabbitWiring

pytestmark = pytest.mark.integration


async def test_dead_letters_are_listed_without_removal_and_redriven_once_fixed(
    pg_store: PostgresEventStore, rabbit: RabbitWiring, amqp_url: str
) -> None:
    broken, handled = True, list[Envelope]()

    async def project(envelope: Envelope, tx: Transaction) -> None:
        if broken:
            raise RuntimeError("the projection has a bug")
        handled.append(envelope)

    inbox = Inbox(pg_store, "projector", project, max_attempts=2)
    await rabbit.consume("projector", ["#"], inbox)
    queue = rabbit.names.queue("projector")
    events = await pg_store.append("session-a", new_events(2), NO_STREAM)
    await rabbit.publisher.publish(events)

    async def two_dead() -> bool:
        return len(await list_dead(amqp_url, queue)) == 2

    await eventually(two_dead, within=20, interval=0.2, what="both dead-lettered")
    letters = await list_dead(amqp_url, queue)  # listing again: nothing was removed
    assert [letter.message_id for letter in letters] == [str(e.event_id) for e in events]
    assert all("RuntimeError: the projection has a bug" in x.error for x in letters)
    assert {(x.consumer, x.attempts, x.type) for x in letters} == {
        ("projector", 2, "ActiveCustomerSelected")
    }
    assert len(await list_dead(amqp_url, queue, limit=1)) == 1
    assert await list_dead(amqp_url, queue) == letters  # in their order still

    broken = False
    assert await redrive(amqp_url, queue) == 2
    await eventually(lambda: len(handled) == 2, within=20, what="both handled after the fix")
    assert [e.event_id for e in handled] == [e.event_id for e in events]
    assert await list_dead(amqp_url, queue) == []
    assert await redrive(amqp_url, queue) == 0


async def test_a_queue_that_is_not_there_is_named(amqp_url: str, rabbit_names: RabbitNames) -> None:
    with pytest.raises(LookupError, match="no such queue"):
        await list_dead(amqp_url, rabbit_names.queue("nobody"))
