"""What invite-svc needs of session-svc, asked over request/reply: the session as it is now,
the site's invitation lifetime, and joining (the services share no code, only contracts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from support_contracts.replies import JoinedReply, SessionReply, SiteReply
from support_contracts.session import (
    GetSession,
    GetSiteSettings,
    JoinAsAssistant,
    JoinAsCustomer,
    Leave,
    SessionCommand,
)
from support_rpc import Call, ask

R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class SessionNow:
    live: bool
    controller: str | None
    number: str


class SessionDirectory:
    def __init__(self, call: Call) -> None:
        self._send = call

    async def session(self, session_id: UUID) -> SessionNow:
        view = (
            await self._ask(GetSession, "invite-svc", SessionReply, session_id=session_id)
        ).session
        live = view.status == "live"  # a live session has its number; the rules refuse the rest
        return SessionNow(live=live, controller=view.controller, number=view.session_number or "")

    async def invitation_ttl(self) -> timedelta:
        site = (await self._ask(GetSiteSettings, "invite-svc", SiteReply)).site
        return timedelta(seconds=site.invitation_ttl_seconds)

    async def join_as_customer(
        self, session_id: UUID, name: str, invitation_id: UUID, correlation_id: UUID
    ) -> str:
        joined = await self._ask(
            JoinAsCustomer,
            None,
            JoinedReply,
            session_id=session_id,
            name=name,
            invitation_id=invitation_id,
            correlation_id=correlation_id,
        )
        return joined.participant_id

    async def join_as_assistant(
        self, session_id: UUID, csr_id: str, name: str, invitation_id: UUID, correlation_id: UUID
    ) -> str:
        await self._ask(
            JoinAsAssistant,
            csr_id,
            SessionReply,
            session_id=session_id,
            csr_id=csr_id,
            name=name,
            invitation_id=invitation_id,
            correlation_id=correlation_id,
        )
        return csr_id

    async def leave(self, session_id: UUID, participant_id: str, correlation_id: UUID) -> None:
        await self._ask(
            Leave,
            participant_id,
            SessionReply,
            session_id=session_id,
            participant_id=participant_id,
            correlation_id=correlation_id,
        )

    async def _ask(
        self,
        kind: type[SessionCommand],
        actor: str | None,
        reply: type[R],
        *,
        correlation_id: UUID | None = None,
        **fields: Any,
    ) -> R:
        """``correlation_id``: of the command that led here, so the chain can be followed."""
        command = kind.new(correlation_id=correlation_id, actor_id=actor, **fields)
        return await ask(self._send, command, reply)
