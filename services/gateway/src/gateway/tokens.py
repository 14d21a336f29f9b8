"""Staff roles and development tokens: light on purpose (only PyJWT), so that ``supportctl
token`` answers at once (issue 14.10: it imported the whole gateway and took seconds)."""

from __future__ import annotations

import time
from enum import StrEnum

import jwt

DEV_ISSUER = "support-center-dev"
DEV_AUDIENCE = "support-api"
DEV_TOKEN_SECONDS = 8 * 3600  # a working day


class Role(StrEnum):
    CSR = "csr"
    AGENT = "agent"
    ADMIN = "admin"
    SUPERVISOR = "supervisor"  # R17: sees every queue and waiting session, steps in


def staff_token(
    secret: str,
    user: str,
    roles: list[str],
    *,
    name: str | None = None,
    issuer: str,
    audience: str,
    ttl_seconds: int = DEV_TOKEN_SECONDS,
) -> str:
    """A development token for ``supportctl token``, signed with the shared secret."""
    now = int(time.time())
    claims = {
        "sub": user,
        "name": name or user,
        "roles": roles,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")
