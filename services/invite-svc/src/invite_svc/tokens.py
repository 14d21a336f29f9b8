"""Join tokens (I2): the session's id, then 192 random bits. Only the SHA-256 of a token is
ever stored; the session id in front lets a token be checked by reading one stream."""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID

from support_contracts.refusals import BadCredentials


def mint(session_id: UUID) -> tuple[str, str]:
    """A new token and its hash."""
    token = f"{session_id.hex}.{secrets.token_urlsafe(24)}"
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_of(token: str) -> UUID:
    prefix, _, secret = token.partition(".")
    try:
        if len(secret) < 32:
            raise ValueError("too short")
        return UUID(hex=prefix)
    except ValueError:
        raise BadCredentials("unknown_token", "this invitation link is not valid") from None
