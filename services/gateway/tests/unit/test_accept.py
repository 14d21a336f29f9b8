"""R6 through the gateway: an accept answers ``assigned`` once session-svc has made the agent
the controller, and never claims it without knowing."""

from __future__ import annotations

import asyncio
from typing import Any, cast
from uuid import uuid4

from gateway.identity import Caller
from gateway.routes import agents
from gateway.routes.agents import Gateway, _assigned
from support_contracts import Command
from support_contracts.replies import Session, SessionReply
from support_contracts.session import GetSession


class Sessions:
    """session-svc as the gateway calls it: the session's controller, as each call finds it."""

    def __init__(self, *controllers: str | None) -> None:
        self.controllers, self.asked = list(controllers), 0

    async def __call__(
        self, command: type[Command], reply: type[SessionReply], who: Any, **fields: Any
    ) -> SessionReply:
        assert (command, reply) == (GetSession, SessionReply)
        self.asked += 1
        controller = self.controllers[min(self.asked, len(self.controllers)) - 1]
        session = Session(
            session_id=fields["session_id"],
            session_number="123456789",
            session_number_display="123 456 789",
            status="live",
            controller=controller,
            participants=[],
            active_customer=None,
            activities=[],
            handoff=None,
            version=3,
        )
        return SessionReply(session=session)


class Gw:
    def __init__(self, sessions: Sessions) -> None:
        self.services = sessions


ZOE = Caller(id="zoe", name="Zoe", roles=frozenset({"agent"}))


async def assigned(sessions: Sessions, within: float) -> bool:
    arrivals: asyncio.Queue[Any] = asyncio.Queue()
    arrivals.put_nowait(None)  # the live feed's connection went (a broker restart)
    return await _assigned(cast(Gateway, Gw(sessions)), ZOE, arrivals, uuid4(), within)


async def test_r6_with_the_live_feed_gone_the_accept_asks_session_svc_who_controls(
    monkeypatch: Any,
) -> None:
    """An accept answered ``assigned`` true at the feed's end without knowing (the fault
    suite saw an agent told so have its end refused 403 a second later)."""
    monkeypatch.setattr(agents, "ASKED_EVERY_SECONDS", 0.01, raising=False)
    later = Sessions("alice", "alice", "zoe")
    assert await assigned(later, within=5) and later.asked == 3
    never = Sessions("alice")
    assert not await assigned(never, within=0.2) and never.asked > 1
