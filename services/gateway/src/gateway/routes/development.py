"""Signing in on a development setup (issue 16.2): the consoles' sign-in page asks for a staff
token for a user, a name and roles, signed with the gateway's shared secret (``JWT_SECRET``)
as ``supportctl token`` signs one. Only where ``DEV_SIGN_IN`` is on (``make run`` turns it on);
anywhere else the route answers 404 and staff sign in with the identity provider."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway.answers import documented
from gateway.routes.common import Gw, Reply
from gateway.tokens import DEV_TOKEN_SECONDS, Role, staff_token
from support_contracts.refusals import Refusal
from support_contracts.vocabulary import DisplayName, UserId

router = APIRouter()


class SignIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"user": "alice", "name": "Alice", "roles": ["csr"]}]}
    )

    user: UserId
    name: DisplayName
    roles: list[Role] = Field(min_length=1)


class SignedIn(BaseModel):
    """A staff token for the consoles, as the identity provider would give one."""

    token: str
    user: str
    name: str
    roles: list[Role]
    expires_in: int = Field(description="seconds")


@router.post("/dev/sign-in", **documented(SignedIn, 404, 422), tags=["development"])
async def sign_in(body: SignIn, gw: Gw) -> Reply:
    """A development setup's sign-in: a staff token for whom the body names (404 elsewhere)."""
    settings = gw.settings
    if not settings.dev_sign_in or settings.jwt_secret is None:
        raise Refusal(
            404,
            "not_found",
            "signing in by name is for development setups only: sign in with your identity"
            " provider",
        )
    roles = list(dict.fromkeys(body.roles))
    token = staff_token(
        settings.jwt_secret,
        body.user,
        [r.value for r in roles],
        name=body.name,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    signed = SignedIn(token=token, user=body.user, name=body.name, roles=roles,
                      expires_in=DEV_TOKEN_SECONDS)  # fmt: skip
    return signed.model_dump(mode="json")
