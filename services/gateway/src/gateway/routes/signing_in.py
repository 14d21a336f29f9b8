"""Signing in to the consoles (issue 16.2). ``GET /v1/sign-in`` tells a page how: with the
identity provider (OpenID Connect's authorization code flow with PKCE: the page is a public
client of the provider whose issuer the gateway trusts, ``JWT_ISSUER``, and sends the access
token it gets as its bearer token), and, on a development setup (``DEV_SIGN_IN``, which
``make run`` turns on), by name: ``POST /v1/dev/sign-in`` answers a staff token for a user, a
name and roles, signed with the gateway's shared secret (``JWT_SECRET``) as ``supportctl
token`` signs one (404 anywhere else). ``GET /v1/me`` says who a staff token is for."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from gateway.answers import documented
from gateway.routes.common import Gw, Reply, Who
from gateway.tokens import DEV_TOKEN_SECONDS, Role, staff_token
from support_contracts.refusals import Refusal
from support_contracts.vocabulary import DisplayName, UserId

router = APIRouter(tags=["signing in"])


class Provider(BaseModel):
    """The identity provider the consoles sign in with."""

    issuer: str = Field(
        description="its discovery document: <issuer>/.well-known/openid-configuration"
    )
    client_id: str = Field(description="the consoles, a public client (no secret; PKCE S256)")
    scope: str
    parameters: dict[str, str] = Field(description="more parameters of the authorization request")


class SignInOptions(BaseModel):
    provider: Provider | None = Field(description="null: no identity provider is configured")
    development: bool = Field(description="signing in by name (POST /v1/dev/sign-in) is on")


@router.get("/sign-in", **documented(SignInOptions))
async def sign_in_options(gw: Gw) -> Reply:
    """How the consoles sign in here (no token needed)."""
    s = gw.settings
    provider = None
    if s.oidc_client_id:
        provider = Provider(issuer=s.jwt_issuer, client_id=s.oidc_client_id, scope=s.oidc_scope,
                            parameters=s.oidc_authorize_parameters)  # fmt: skip
    development = s.dev_sign_in and s.jwt_secret is not None
    return SignInOptions(provider=provider, development=development).model_dump(mode="json")


class Me(BaseModel):
    """Who a staff token is for, as the gateway reads it."""

    user: str
    name: str
    roles: list[str]


@router.get("/me", **documented(Me, 401, 403))
async def me(who: Who) -> Reply:
    """The caller of a staff token: a console that signed in with the identity provider learns
    its name and roles here (a participant's token is refused, 403)."""
    if who.participant:
        raise Refusal(403, "forbidden", "a participant's token is for its session only")
    return Me(user=who.id, name=who.name, roles=sorted(who.roles)).model_dump(mode="json")


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
