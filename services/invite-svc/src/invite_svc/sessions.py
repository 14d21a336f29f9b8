"""What invite-svc needs of session-svc, asked over request/reply: the session as it is now,
the site's invitation lifetime, and joining (the services share no code, only contracts)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]
"""Send session-svc a command (its type and fields) and get its reply."""


@dataclass(frozen=True)
class SessionNow:
    live: bool
    controller: str | None
    number: str


class SessionDirectory:
    def __init__(self, call: Call) -> None:
        self._send = call

    async def _call(
        self,
        command_type: str,
        actor: str | None,
        *,
        correlation_id: UUID | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """``correlation_id``: of the command that led here, so the chain can be followed."""
        command = {
            "command_id": str(uuid4()),
            "correlation_id": str(correlation_id or uuid4()),
            "actor_id": actor,
            **fields,
        }
        return await self._send(command_type, command)

    async def session(self, session_id: UUID) -> SessionNow:
        view = (await self._call("GetSession", "invite-svc", session_id=str(session_id)))["session"]
        live = view["status"] == "live"
        return SessionNow(live=live, controller=view["controller"], number=view["session_number"])

    async def invitation_ttl(self) -> timedelta:
        site = (await self._call("GetSiteSettings", "invite-svc"))["site"]
        return timedelta(seconds=int(site["invitation_ttl_seconds"]))

    async def join_as_customer(
        self, session_id: UUID, name: str, invitation_id: UUID, correlation_id: UUID
    ) -> str:
        reply = await self._call(
            "JoinAsCustomer",
            None,
            session_id=str(session_id),
            name=name,
            invitation_id=str(invitation_id),
            correlation_id=correlation_id,
        )
        return str(reply["participant_id"])

    async def join_as_assistant(
        self, session_id: UUID, csr_id: str, name: str, invitation_id: UUID, correlation_id: UUID
    ) -> str:
        await self._call(
            "JoinAsAssistant",
            csr_id,
            session_id=str(session_id),
            csr_id=csr_id,
            name=name,
            invitation_id=str(invitation_id),
            correlation_id=correlation_id,
        )
        return csr_id

    async def leave(self, session_id: UUID, participant_id: str, correlation_id: UUID) -> None:
        await self._call(
            "Leave",
            participant_id,
            session_id=str(session_id),
            participant_id=participant_id,
            correlation_id=correlation_id,
        )
