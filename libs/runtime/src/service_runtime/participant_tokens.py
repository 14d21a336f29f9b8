"""Participant tokens: what a participant shows the relay (and the gateway) for one session.

The gateway mints one when a customer joins (CONTRACT.md ``POST /v1/join``) or a csr starts or
joins a session; the relay checks it before any frame flows (M1). It is a JWT signed with
HS256 and a secret the two services share: ``sub`` the participant, ``sid`` the session,
``exp`` when it stops being good. It says who the bearer is, not what they may do: the role
comes from the session's events, so a csr who was handed control needs no new token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID

import jwt

ISSUER = "support-center"
AUDIENCE = "support-session"
ALGORITHM = "HS256"


class InvalidParticipantToken(Exception):
    """Unsigned, tampered, expired, or not a participant token at all."""


@dataclass(frozen=True)
class ParticipantClaim:
    participant_id: str
    session_id: UUID
    expires_at: float


def mint(
    secret: str,
    participant_id: str,
    session_id: UUID,
    *,
    ttl_seconds: float,
    now: float | None = None,
) -> str:
    issued = time.time() if now is None else now
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": participant_id,
        "sid": str(session_id),
        "iat": int(issued),
        "exp": int(issued + ttl_seconds),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str, *, now: float | None = None) -> ParticipantClaim:
    """The claim, or InvalidParticipantToken saying why not. ``now`` is a test's clock."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "sid"], "verify_exp": False},
        )
        claim = ParticipantClaim(str(claims["sub"]), UUID(str(claims["sid"])), float(claims["exp"]))
    except (jwt.InvalidTokenError, ValueError) as error:
        raise InvalidParticipantToken(f"not a valid participant token: {error}") from None
    if claim.expires_at <= (time.time() if now is None else now):
        raise InvalidParticipantToken("the participant token has expired")
    return claim
