"""The consoles' pages on the API's origin (issue 16), and the development setup's sign-in
that the dashboard uses. (The pages in a browser: ``tests-browser``.)"""

from __future__ import annotations

import httpx

from session_svc.bootstrap import SessionService
from support_testkit.plugin import RabbitNames

from .conftest import bearer
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
