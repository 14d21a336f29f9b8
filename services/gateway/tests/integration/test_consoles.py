"""The consoles' pages on the API's origin (issue 16), and the development setup's sign-in
that the dashboard uses. (The pages in a browser: ``tests-browser``.)"""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from session_svc.bootstrap import SessionService
from support_testkit.plugin import RabbitNames

from .conftest import bearer, gateway_settings
from .test_api import gateway_where

ALICE = bearer("alice", "csr")


async def test_the_join_link_of_an_invitation_opens_the_join_page(api: httpx.AsyncClient) -> None:
    """Issue 14.9: an invitation's link (``SUPPORT_SITE_URL/join?token=...``) and the site
    itself (the website instructions: go to the site, choose Join) open the Join page, whose
    script (built from ``consoles/``) joins through ``POST /v1/join``."""
    started = await api.post("/v1/sessions", json={"email_invite": True}, headers=ALICE)
    link = httpx.URL(started.json()["join_url"])
    assert link.path == "/join" and link.params["token"]
    page = await api.get(f"{link.path}?{link.query.decode()}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<input id="name" name="name" required' in page.text
    assert '<script type="module" src="/app/customer.js">' in page.text
    script = await api.get("/app/customer.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert '"/v1/join"' in script.text and '"token"' in script.text
    front = await api.get("/")
    assert (front.status_code, front.headers["location"]) == (307, "/join")


async def test_the_dashboard_and_the_entry_form_are_served_with_their_scripts(
    api: httpx.AsyncClient,
) -> None:
    page = await api.get("/console")
    assert page.status_code == 200 and '<script type="module" src="/app/console.js">' in page.text
    for asset in ("/app/console.js", "/app/pages.css"):
        assert (await api.get(asset)).status_code == 200, asset
    assert (await api.get("/app/nothing.js")).status_code == 404
    form = await api.get("/queues/6a1f3c2e-8d1b-4e7a-9c55-0b6f1d2e3a4b/form")  # R8's page
    assert form.status_code == 200 and '<form id="request" hidden' in form.text


async def test_signing_in_by_name_is_refused_unless_the_setup_is_for_development(
    api: httpx.AsyncClient,
) -> None:
    body = {"user": "mallory", "name": "Mallory", "roles": ["admin"]}
    refused = await api.post("/v1/dev/sign-in", json=body)
    assert refused.status_code == 404
    assert "development setups only" in refused.json()["error"]["message"]


async def test_a_development_setup_signs_in_by_name_with_a_token_the_api_takes(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames, session_svc: SessionService
) -> None:
    async with gateway_where(database_url, amqp_url, rabbit_names, dev_sign_in=True) as client:
        body = {"user": "dave", "name": "Dave", "roles": ["csr", "agent", "agent"]}
        signed = await client.post("/v1/dev/sign-in", json=body)
        assert signed.status_code == 200, signed.text
        assert signed.json()["roles"] == ["csr", "agent"] and signed.json()["expires_in"] > 0
        headers = {"Authorization": f"Bearer {signed.json()['token']}"}
        started = await client.post("/v1/sessions", json={"email_invite": False}, headers=headers)
        assert started.status_code == 201, started.text
        assert started.json()["session"]["participants"][0]["name"] == "Dave"
        for wrong in ({**body, "roles": []}, {**body, "roles": ["root"]}, {**body, "name": ""}):
            assert (await client.post("/v1/dev/sign-in", json=wrong)).status_code == 422, wrong


async def test_the_sign_in_options_say_how_the_consoles_sign_in_here(
    database_url: str, amqp_url: str, rabbit_names: RabbitNames
) -> None:
    """Issue 16.2: ``GET /v1/sign-in`` (no token) names the identity provider the consoles sign
    in with (OIDC, authorization code with PKCE), and whether signing in by name is on."""
    provider = {
        "jwks_url": "https://login.example.com/jwks",  # fetched when a token comes
        "jwt_issuer": "https://login.example.com/",
        "oidc_client_id": "support-consoles",
        "oidc_authorize_parameters": {"audience": "https://support.example.com/api"},
    }
    async with gateway_where(database_url, amqp_url, rabbit_names, **provider) as client:
        with_provider = (await client.get("/v1/sign-in")).json()
    assert with_provider == {
        "provider": {
            "issuer": "https://login.example.com/",
            "client_id": "support-consoles",
            "scope": "openid profile",
            "parameters": {"audience": "https://support.example.com/api"},
        },
        "development": False,
    }
    async with gateway_where(database_url, amqp_url, rabbit_names, dev_sign_in=True) as client:
        assert (await client.get("/v1/sign-in")).json() == {"provider": None, "development": True}
    async with gateway_where(database_url, amqp_url, rabbit_names) as client:
        assert (await client.get("/v1/sign-in")).json() == {"provider": None, "development": False}


def test_a_consoles_client_id_without_the_provider_s_keys_is_a_clear_error() -> None:
    with pytest.raises(ValidationError, match="OIDC_CLIENT_ID needs JWKS_URL"):
        gateway_settings("amqp://x", "postgresql://x", "s", RabbitNames("t"), oidc_client_id="c")


async def test_me_says_who_a_staff_token_is_for(api: httpx.AsyncClient) -> None:
    """What a console that signed in with the identity provider learns of itself: the user, the
    name and the roles the gateway reads in the token; a participant's token is refused."""
    dave = bearer("dave", "csr", "agent", name="Dave Lee")
    answer = await api.get("/v1/me", headers=dave)
    assert answer.json() == {"user": "dave", "name": "Dave Lee", "roles": ["agent", "csr"]}
    assert (await api.get("/v1/me")).status_code == 401
    started = await api.post("/v1/sessions", json={"email_invite": False}, headers=ALICE)
    number = started.json()["session_number"]
    joined = await api.post("/v1/join", json={"session_number": number, "name": "Carol"})
    carol = {"Authorization": f"Bearer {joined.json()['participant_token']}"}
    refused = await api.get("/v1/me", headers=carol)
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "forbidden")
