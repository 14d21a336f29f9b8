"""Events an inbox looks at first (``look_first``, issue 19): the handler is given the event on
the store with its writes refused; if it writes nothing the event is handled there, with no
transaction and no record, and if it would write it is handled in the inbox's transaction as
any other. In a batch, only those first in line are looked at: one behind an event that writes
may need what that event writes."""

from __future__ import annotations

import pytest

from eventlog import EventStore, Inbox, StreamState, Transaction
from eventlog.inbox import Handler
from support_contracts import Envelope

from .factories import new_event, recorded, transactions_counted

LOOKED_AT = frozenset({"ActiveCustomerSelected"})  # the type of every event here


def things() -> Handler:
    """``create-x`` makes the thing ``x``; ``end-x`` ends it, if there is one."""

    async def handle(envelope: Envelope, tx: Transaction) -> None:
        verb, thing = envelope.data["participant_id"].split("-")
        stream = f"thing-{thing}"
        if verb == "create":
            await tx.append(stream, [new_event("created")], StreamState.ANY)
        elif await tx.read_stream(stream):
            await tx.append(stream, [new_event("ended")], StreamState.ANY)

    return handle


async def told(store: EventStore, thing: str) -> list[str]:
    return [e.data["participant_id"] for e in await store.read_stream(f"thing-{thing}")]


async def test_an_event_that_needs_nothing_takes_no_transaction_and_is_not_recorded(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    [end] = await recorded(store, "end-1")
    inbox = Inbox(store, "things", things(), look_first=LOOKED_AT)
    opened = transactions_counted(store, monkeypatch)
    assert (await inbox.deliver(end)).handled
    assert opened == [] and await told(store, "1") == []
    # not recorded: delivered again once the thing exists, the event ends it, once
    await store.append("thing-1", [new_event("created")], StreamState.ANY)
    opened.clear()  # (the in-memory store's append is a transaction of its own)
    assert (await inbox.deliver(end)).handled
    assert not (await inbox.deliver(end)).handled  # now recorded, with what it wrote
    assert await told(store, "1") == ["created", "ended"]
    assert len(opened) == 2  # the write and the repeat, each in the inbox's transaction


async def test_without_look_first_every_event_takes_a_transaction(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    [end] = await recorded(store, "end-1")
    inbox = Inbox(store, "things", things())
    opened = transactions_counted(store, monkeypatch)
    assert (await inbox.deliver(end)).handled
    assert not (await inbox.deliver(end)).handled  # recorded though it wrote nothing
    assert len(opened) == 2


async def test_in_a_batch_only_those_first_in_line_are_looked_at(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = await recorded(store, "end-8", "end-9", "create-1", "end-1", "end-2")
    inbox = Inbox(store, "things", things(), look_first=LOOKED_AT)
    opened = transactions_counted(store, monkeypatch)
    verdicts = await inbox.deliver_many([(e, 1) for e in batch])
    assert [v.handled for v in verdicts] == [True] * 5
    assert len(opened) == 1  # the two ends first in line needed none
    # end-1 came behind create-1, in its transaction: it saw the thing made
    assert await told(store, "1") == ["created", "ended"]
    again = await inbox.deliver_many([(e, 1) for e in batch[2:]])
    assert [v.handled for v in again] == [False, False, False]  # recorded with the batch
    await store.append("thing-8", [new_event("created")], StreamState.ANY)
    assert (await inbox.deliver(batch[0])).handled  # end-8 was looked at, never recorded
    assert await told(store, "8") == ["created", "ended"]
