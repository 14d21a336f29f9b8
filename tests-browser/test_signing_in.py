"""Signing in to the dashboard with an identity provider (issue 16.2): OpenID Connect's
authorization code flow with PKCE, against a real OpenID provider (``idp/``: oidc-provider, a
certified implementation, on Node.js), with ``make run`` told of it by the gateway's own
variables. The provider's development sign-in pages take any password."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.async_api import Request, expect

from service_runtime.http import free_port

from .people import Person, accessibility, shot

IDP = Path(__file__).parent / "idp"
CLIENT = "support-consoles"
AUDIENCE = "https://support.test/api"
USERS = {"carol": {"name": "Carol Smith", "roles": ["csr"]}}


@pytest.fixture
def gateway_port() -> int:
    return free_port()


@pytest.fixture
async def issuer(gateway_port: int) -> AsyncIterator[str]:
    """The provider, its one client the consoles at the gateway's ``/console``."""
    if not (IDP / "node_modules").is_dir():
        pytest.fail("the test provider's packages are missing: run `make browser`")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        "node", str(IDP / "idp.mjs"), str(port), CLIENT,
        f"http://127.0.0.1:{gateway_port}/console", AUDIENCE, json.dumps(USERS),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), 30)
    assert line.startswith(b"idp: listening on "), line
    yield line.decode().split()[-1]
    process.terminate()
    await process.wait()


@pytest.fixture
def run_environment(issuer: str, gateway_port: int) -> dict[str, str]:
    return {
        "GATEWAY_PORT": str(gateway_port),
        "OIDC_CLIENT_ID": CLIENT,
        "JWKS_URL": f"{issuer}/jwks",
        "JWT_ISSUER": issuer,
        "JWT_AUDIENCE": AUDIENCE,
        "OIDC_AUTHORIZE_PARAMETERS": json.dumps({"resource": AUDIENCE}),  # RFC 8707
    }


async def test_a_csr_signs_in_with_the_identity_provider_by_pkce_and_starts_a_session(
    person: Person, issuer: str
) -> None:
    carol = await person("carol")
    asked: list[Request] = []
    carol.on("request", lambda r: asked.append(r) if r.url.startswith(issuer) else None)

    # an answer this page did not ask for is not taken (its state is not the page's)
    await carol.goto("/console?code=forged&state=forged")
    await expect(carol.get_by_role("alert")).to_have_text(
        "That sign-in was not started from this page: sign in again."
    )
    assert "code=" not in carol.url  # a code is never left in the address
    await expect(carol.get_by_label("User id")).to_be_hidden()  # no sign-in by name here
    await expect(carol.get_by_text(f"your organisation's account at {issuer}")).to_be_visible()
    assert await accessibility(carol) == []
    await shot(carol, "oidc", "1-sign-in")

    await carol.get_by_role("button", name="Sign in with your organisation").click()
    await carol.wait_for_url(f"{issuer}/**")  # the provider's own sign-in page
    await carol.locator("input[name=login]").fill("carol")
    await carol.locator("input[name=password]").fill("any password")
    await carol.get_by_role("button", name="Sign-in").click()
    await carol.get_by_role("button", name="Continue").click()  # the provider's consent

    await expect(carol.get_by_text("Signed in as Carol Smith (csr)")).to_be_visible()
    assert urlsplit(carol.url).query == ""
    await shot(carol, "oidc", "2-signed-in")
    authorize = parse_qs(urlsplit(next(r.url for r in asked if "/auth?" in r.url)).query)
    assert authorize["code_challenge_method"] == ["S256"]
    assert len(authorize["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
    assert authorize["client_id"] == [CLIENT] and authorize["resource"] == [AUDIENCE]
    exchange = next(r for r in asked if r.url.endswith("/token"))
    sent = parse_qs(exchange.post_data or "")
    assert sent["grant_type"] == ["authorization_code"] and len(sent["code_verifier"][0]) == 43

    # the provider's access token is what the API takes: a session starts
    await carol.get_by_label("Open an e-mail invitation for the customer").uncheck()
    await carol.get_by_role("button", name="Start", exact=True).click()
    await expect(carol.get_by_text("You control this session.")).to_be_visible()

    # the token is kept for the tab: a reload stays signed in, signing out forgets it
    await carol.reload()
    await expect(carol.get_by_text("Signed in as Carol Smith (csr)")).to_be_visible()
    await carol.get_by_role("button", name="Sign out").click()
    await expect(carol.get_by_role("button", name="Sign in with your organisation")).to_be_visible()
