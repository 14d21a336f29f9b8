"""Issue 19: a csr's stream (its settings and S2's ledger, two events a session) is not read
whole by every start: a replica keeps each csr's fold and reads only what came after it,
so a start costs the same on a csr's thousandth session as on its first; and another
replica's writes since are never hidden by it (S2)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from eventlog import EventStore, NewEvent, StreamState, utc_now
from eventlog.model import SystemCause
from session_svc import writing
from session_svc.domain import Csr, StateForbids
from session_svc.domain.settings import csr_stream
from support_contracts.session import ControlGained, EndSession

from .test_writing import handlers, run, start

SYSTEM = SystemCause(command_id=uuid4(), correlation_id=uuid4())


def folded_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many of the csr's events each fold of its stream took in."""
    counts: list[int] = []
    fold = writing.fold_csr

    def counted(events: list[Any], csr: Csr | None = None) -> Csr:
        counts.append(len(events))
        return fold(events, csr)

    monkeypatch.setattr(writing, "fold_csr", counted)
    return counts


async def test_issue_19_a_start_folds_only_the_csrs_events_since_the_last_it_read(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = handlers(store)
    for _ in range(20):
        session = await start(h)
        await run(h, EndSession, "alice", session_id=UUID(session["session_id"]))
    counts = folded_counted(monkeypatch)
    await start(h)
    assert counts == [2]  # the last session's ControlGained and ControlReleased, not all 40
    with pytest.raises(StateForbids):  # alice controls that session: single-session mode (S2)
        await start(handlers(store))  # on a replica that never read her stream
    assert counts[-1] == 41  # which reads it whole, once


async def test_s2_a_kept_fold_never_hides_another_replicas_start(store: EventStore) -> None:
    one, other = handlers(store), handlers(store)
    for _ in range(2):  # the second start leaves `one` a fold of her ledger: she controls none
        session = await start(one)
        await run(one, EndSession, "alice", session_id=UUID(session["session_id"]))
    await start(other)  # she controls a session again, through the other replica
    with pytest.raises(StateForbids):
        await start(one)


async def test_s2_a_fold_read_in_a_transaction_not_its_own_is_not_kept(store: EventStore) -> None:
    """The inbox's transaction may have appended to the csr's stream for an event before (and
    may yet roll back): what the replica keeps is only what it read in its own."""
    h = handlers(store)

    class RolledBack(Exception):
        pass

    with pytest.raises(RolledBack):
        async with store.transaction() as tx:
            gained = NewEvent.caused([ControlGained(session_id=uuid4())], SYSTEM, utc_now())
            await tx.append(csr_stream("alice"), gained, StreamState.ANY)
            assert (await h.csr(tx, "alice")).controls  # as the transaction sees it
            raise RolledBack
    await start(h)  # she controls nothing: the rolled-back fold was not kept
