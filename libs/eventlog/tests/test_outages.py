"""Issue 13.6: a database that does not answer is a 503 ``unavailable`` from a service's
command door, never a 500; a bug stays a bug."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import asyncpg
import pytest
from aiormq.exceptions import ChannelInvalidStateError

from eventlog.outages import is_outage
from support_contracts.refusals import Refusal
from support_contracts.replies import SessionReply
from support_contracts.session import EndSession
from support_rpc.door import command_door


def test_outages_are_told_from_bugs_also_when_wrapped() -> None:
    assert is_outage(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    assert is_outage(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert is_outage(ChannelInvalidStateError("writer is None"))
    assert is_outage(ConnectionRefusedError(111, "refused"))
    broken = "cannot switch to state 12; another operation (2) is in progress"
    assert is_outage(asyncpg.InternalClientError(broken))  # a connection the crash left broken
    try:
        try:
            raise asyncpg.AdminShutdownError("terminating connection")
        except asyncpg.AdminShutdownError as error:
            raise RuntimeError("while folding") from error
    except RuntimeError as wrapped:
        assert is_outage(wrapped)
    assert not is_outage(ValueError("a bug"))
    assert not is_outage(KeyError("participant_id"))


def _end_session() -> dict[str, Any]:
    return EndSession.new(actor_id="alice", session_id=uuid4()).model_dump(mode="json")


async def _door_raising(error: Exception) -> Refusal | None:
    async def execute(_: Any) -> SessionReply:
        raise error

    door = command_door("session-svc", {EndSession: None}, execute, outages=is_outage)
    try:
        await door("EndSession", _end_session())
    except Refusal as failure:
        return failure
    return None


async def test_a_database_outage_is_answered_503_unavailable() -> None:
    failure = await _door_raising(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    assert failure is not None
    assert (failure.status, failure.code) == (503, "unavailable")
    assert "database" in failure.message


async def test_a_bug_is_not_dressed_up_as_an_outage() -> None:
    with pytest.raises(ZeroDivisionError):
        await _door_raising(ZeroDivisionError("a bug"))
