"""``make run`` (issue 16.1): the whole stack comes up with nothing configured, says where the
gateway is and how to sign in, takes requests with the tokens it printed, shows the system
e-mail it caught (a customer joins with that e-mail's link), and stops cleanly on Ctrl-C. On
RabbitMQ and PostgreSQL what it did is still there at the next run."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from gateway.settings import Settings as GatewaySettings
from support_demo.run import until_stopped
from support_demo.stack import IdentityProvider, Service, Stack, signing_in
from support_testkit.make_run import Run, forget, make_run

pytestmark = [pytest.mark.timeout(180), pytest.mark.integration]  # the stack as a process


async def invite_and_join(run: Run, api: httpx.AsyncClient, session_id: str) -> None:
    """I1: the system e-mail goes to the run's mail catcher, which shows its link; the
    customer joins with it."""
    invited = await api.post(
        f"/v1/sessions/{session_id}/invitations",
        json={"role": "customer", "channel": "email", "to": "bob@example.com"},
        headers=run.token_of("alice"),
    )
    assert invited.status_code == 201, invited.text
    await run.read_until(r"e-mail to bob@example\.com: Invitation to a support session")
    link = (await run.read_until(r"its join link: \S+/join\?token=(\S+)"))[1]
    joined = await api.post("/v1/join", json={"token": link, "name": "Bob"})
    assert joined.status_code == 200, joined.text
    assert joined.json()["session_id"] == session_id and joined.json()["participant_token"]
    mail = sorted((run.folder / "mail").glob("*.eml"))
    assert len(mail) == 1 and b"bob@example.com" in mail[0].read_bytes()


async def test_make_run_embedded_serves_the_api_shows_the_mail_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    async with make_run(tmp_path, DEMO_MODE="embedded") as run:
        assert any(line.startswith("support center running, embedded") for line in run.lines)
        async with httpx.AsyncClient(base_url=run.gateway, timeout=30) as api:
            assert (await api.get("/healthz")).status_code == 200
            started = await api.post(
                "/v1/sessions", json={"email_invite": False}, headers=run.token_of("alice")
            )
            assert started.status_code == 201, started.text
            await invite_and_join(run, api, started.json()["session_id"])
            site = await api.get("/v1/admin/site", headers=run.token_of("admin"))
            assert site.status_code == 200, site.text  # the admin's token is an admin's
            refused = await api.get("/v1/admin/site", headers=run.token_of("alice"))
            assert refused.status_code == 403
        assert await run.stop() == 0


async def test_make_run_on_rabbitmq_and_postgresql_keeps_what_it_did_for_the_next_run(
    tmp_path: Path, amqp_url: str, database_url: str
) -> None:
    name = f"t{uuid4().hex[:10]}"
    environment = {"AMQP_URL": amqp_url, "DATABASE_URL": database_url, "RUN_NAME": name}
    try:
        async with make_run(tmp_path, **environment) as run:
            assert any(line.startswith("support center running, real") for line in run.lines)
            async with httpx.AsyncClient(base_url=run.gateway, timeout=30) as api:
                started = await api.post(
                    "/v1/sessions", json={"email_invite": False}, headers=run.token_of("alice")
                )
                assert started.status_code == 201, started.text
                session_id = started.json()["session_id"]
                await invite_and_join(run, api, session_id)
            assert await run.stop() == 0
        logs = sorted(p.name for p in (tmp_path / "logs").iterdir())
        assert logs == [f"{m}.log" for m in ("gateway", "invite_svc", "media_relay",
                                              "routing_svc", "session_svc")]  # fmt: skip
        async with make_run(tmp_path, **environment) as again:
            async with httpx.AsyncClient(base_url=again.gateway, timeout=30) as api:
                kept = await api.get(f"/v1/sessions/{session_id}", headers=again.token_of("alice"))
                assert kept.status_code == 200, kept.text
                assert [p["name"] for p in kept.json()["participants"]] == ["Alice", "Bob"]
            assert await again.stop() == 0
    finally:
        await forget(amqp_url, database_url, name)


async def test_make_run_stops_with_exit_code_1_when_a_service_process_ends_by_itself() -> None:
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "raise SystemExit(3)")
    service = Service("routing_svc", process, started={})
    assert await until_stopped(asyncio.Event(), Stack("", 0, [service], {})) == 1


def test_make_run_takes_an_identity_provider_from_the_gateway_s_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 16.2: ``make run`` with ``OIDC_CLIENT_ID`` (and the provider's keys, issuer and
    audience) signs staff in with that provider instead of by name; what is missing is said."""
    environ = {
        "OIDC_CLIENT_ID": "support-consoles",
        "JWKS_URL": "https://login.example.com/jwks",
        "JWT_ISSUER": "https://login.example.com/",
        "JWT_AUDIENCE": "https://support.example.com/api",
        "OIDC_AUTHORIZE_PARAMETERS": '{"audience": "https://support.example.com/api"}',
    }
    provider = IdentityProvider.from_environment(environ)
    assert provider is not None
    gateway = GatewaySettings(
        participant_token_secret="p" * 32, jwt_secret="s" * 32,
        session_commands="s", invite_commands="i", routing_commands="r",
        **signing_in(True, provider),
    )  # fmt: skip
    assert (gateway.oidc_client_id, gateway.dev_sign_in) == ("support-consoles", False)
    # as a service process gets it: the parameters as JSON, read back as they were
    for name, value in gateway.as_environment().items():
        monkeypatch.setenv(name, value)
    again = GatewaySettings()  # type: ignore[call-arg]
    assert again.oidc_authorize_parameters == {"audience": "https://support.example.com/api"}
    assert IdentityProvider.from_environment({}) is None
    with pytest.raises(ValueError, match="set JWKS_URL, JWT_AUDIENCE too"):
        IdentityProvider.from_environment({"OIDC_CLIENT_ID": "c", "JWT_ISSUER": "i"})
