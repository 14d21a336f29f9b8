"""E1: a bearer token checked once is taken as it was for a while, but never past its expiry;
a bad token is never taken."""

from __future__ import annotations

import time

import jwt
import pytest

from gateway import identity
from gateway.identity import Identity, staff_token
from gateway.settings import Settings
from support_contracts.refusals import Refusal

SECRET = "a-unit-test-jwt-secret-of-32-chars!!"


def _identity() -> Identity:
    return Identity(Settings(jwt_secret=SECRET, participant_token_secret=SECRET))


def _bearer(ttl_seconds: int = 600) -> str:
    token = staff_token(
        SECRET, "ann", ["csr"], issuer="support-center-dev", audience="support-api",
        ttl_seconds=ttl_seconds,
    )  # fmt: skip
    return f"Bearer {token}"


def test_e1_a_token_checked_once_is_not_checked_again(monkeypatch: pytest.MonkeyPatch) -> None:
    who, bearer = _identity(), _bearer()
    first = who.caller(bearer)
    checks = 0
    real = identity.jwt.decode

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal checks
        checks += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(identity.jwt, "decode", counted)
    assert who.caller(bearer) is first and checks == 0
    monkeypatch.setattr(identity, "CHECKED_SECONDS", 0.0)  # kept no time: checked every time
    other = _identity()
    other.caller(bearer)
    other.caller(bearer)
    assert checks == 4  # each time: the unverified look at its audience, then the check


def test_e1_a_checked_token_expires_when_it_says() -> None:
    who, bearer = _identity(), _bearer(ttl_seconds=3)  # 1 s expired before its first check
    assert who.caller(bearer).id == "ann"  # on a slow machine once (expiry in whole seconds)
    expires = jwt.decode(bearer.removeprefix("Bearer "), options={"verify_signature": False})
    time.sleep(max(0.0, expires["exp"] - time.time()) + 1.1)  # past it, within the minute kept
    with pytest.raises(Refusal) as refused:
        who.caller(bearer)
    assert refused.value.code == "expired_token"


def test_e1_a_bad_token_is_refused_every_time() -> None:
    who = _identity()
    bad = _bearer()[:-4] + "AAAA"
    for _ in range(2):
        with pytest.raises(Refusal) as refused:
            who.caller(bad)
        assert refused.value.status == 401
