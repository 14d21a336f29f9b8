"""Who calls (E1): csrs, agents and admins with a bearer JWT from the identity provider,
verified by signature, issuer, audience and expiry; customers with the participant token they
got when joining (``service_runtime.participant_tokens``).

Keys: a JWKS URL (a real provider; keys fetched and cached by PyJWT's ``PyJWKClient``), a JWKS
file, or a shared secret for development (HS256, what ``supportctl token`` signs with).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import jwt
from fastapi.concurrency import run_in_threadpool

from gateway.settings import Settings
from gateway.tokens import Role, staff_token
from service_runtime import participant_tokens
from support_contracts.refusals import Refusal

__all__ = ["CHECKED_MOST", "CHECKED_SECONDS", "Caller", "Identity", "Role", "staff_token"]

CHECKED_SECONDS = 60.0  # how long a checked token is taken as it was (a key rotated meanwhile)
CHECKED_MOST = 10_000  # tokens kept checked; the oldest goes first


@dataclass(frozen=True)
class Caller:
    """A staff member (roles from the token) or a participant (``session_id`` set)."""

    id: str
    name: str
    roles: frozenset[str]
    session_id: UUID | None = None

    @property
    def participant(self) -> bool:
        return self.session_id is not None

    def has(self, role: Role) -> bool:
        return role.value in self.roles


class Identity:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._jwks: jwt.PyJWKClient | None = None
        self._keyset: jwt.PyJWKSet | None = None
        self._checked: dict[str, tuple[Caller, float]] = {}  # token: its caller, until when
        if settings.jwks_url:
            self._jwks = jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
        elif settings.jwks_file:
            self._keyset = jwt.PyJWKSet.from_json(settings.jwks_file.read_text())
        elif not settings.jwt_secret:
            raise ValueError("set JWKS_URL, JWKS_FILE or JWT_SECRET: staff tokens need a key")

    @property
    def may_block(self) -> bool:
        """Checking a token may fetch the keys from the JWKS URL (a blocking HTTP call)."""
        return self._jwks is not None

    def caller(self, authorization: str | None) -> Caller:
        """The caller of a request, or 401 saying why not. A token checked once is taken as
        it was for up to a minute (never past its expiry): a console sends the same token
        with every request, and checking it cost 6% of the gateway's CPU (bench/e2e)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Refusal(401, "no_credentials", "send Authorization: Bearer <token>")
        token, now = authorization[7:].strip(), time.time()
        known = self._checked.get(token)
        if known is not None and known[1] > now:
            return known[0]
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise Refusal(401, "bad_token", "the bearer token is not a JWT") from None
        if unverified.get("aud") == participant_tokens.AUDIENCE:
            caller = self._participant(token)
        else:
            caller = self._staff(token)
        expires = unverified.get("exp")
        if isinstance(expires, int | float):
            self._checked[token] = (caller, min(float(expires), now + CHECKED_SECONDS))
            if len(self._checked) > CHECKED_MOST:
                del self._checked[next(iter(self._checked))]  # the oldest
        return caller

    async def key_of(self, authorization: bytes) -> bytes:
        """Whose idempotency key it is: the verified caller (its id, roles and session), so a
        retry with a refreshed token is the same request; a header that does not verify
        stands for itself (its request is refused anyway)."""
        header = authorization.decode("latin-1")
        try:
            if self.may_block:
                caller = await run_in_threadpool(self.caller, header)
            else:
                caller = self.caller(header)
        except Refusal:
            return b"unverified\0" + authorization
        roles = ",".join(sorted(caller.roles))
        return f"{caller.id}\0{roles}\0{caller.session_id or ''}".encode()

    def _participant(self, token: str) -> Caller:
        try:
            claim = participant_tokens.verify(self._settings.participant_token_secret, token)
        except participant_tokens.InvalidParticipantToken as error:
            raise Refusal(401, "bad_token", str(error)) from None
        return Caller(claim.participant_id, claim.participant_id, frozenset(), claim.session_id)

    def _staff(self, token: str) -> Caller:
        s = self._settings
        try:
            key, algorithms = self._key(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=s.jwt_audience,
                issuer=s.jwt_issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Refusal(401, "expired_token", "the bearer token has expired") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError) as error:
            raise Refusal(401, "bad_token", f"the bearer token is not valid: {error}") from None
        roles = claims.get("roles", [])
        if not isinstance(roles, list):
            raise Refusal(401, "bad_token", "the token's roles are not a list")
        name = str(claims.get("name") or claims["sub"])
        return Caller(str(claims["sub"]), name, frozenset(str(r) for r in roles))

    def _key(self, token: str) -> tuple[Any, list[str]]:
        if self._jwks is not None:
            signing = self._jwks.get_signing_key_from_jwt(token)
            return signing.key, ["RS256", "ES256", "PS256"]
        if self._keyset is not None:
            kid = jwt.get_unverified_header(token).get("kid")
            matching = [k for k in self._keyset.keys if kid is None or k.key_id == kid]
            if not matching:
                raise jwt.InvalidTokenError(f"no key {kid!r} in the JWKS file")
            return matching[0].key, ["RS256", "ES256", "PS256"]
        assert self._settings.jwt_secret is not None
        return self._settings.jwt_secret, ["HS256"]
