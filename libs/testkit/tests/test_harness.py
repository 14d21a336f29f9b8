"""The harness fails, never skips, when a service is missing, and says how to start it
(foundation item 8)."""

from __future__ import annotations

import socket

import pytest

pytest_plugins = ["pytester"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("variable", "url", "fixture", "advice"),
    [
        ("DATABASE_URL", "postgresql://postgres@127.0.0.1:{port}/test", "database_url",
         "pg_ctlcluster --skip-systemctl-redirect"),
        ("AMQP_URL", "amqp://guest:guest@127.0.0.1:{port}/", "amqp_url",
         "rabbitmq-server -detached"),
    ],
)  # fmt: skip
def test_a_missing_service_fails_with_how_to_start_it(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    url: str,
    fixture: str,
    advice: str,
) -> None:
    monkeypatch.setenv(variable, url.format(port=closed_port()))
    pytester.makepyfile(f"def test_needs_it({fixture}):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*does not answer*{advice}*"])
    assert "skipped" not in result.stdout.str()


@pytest.mark.integration  # a pytest of its own, on the real services
def test_each_test_gets_its_own_schema_and_names(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        seen = []

        def test_one(pg_schema, rabbit_names):
            seen.append((pg_schema, rabbit_names.exchange))

        def test_two(pg_schema, rabbit_names):
            seen.append((pg_schema, rabbit_names.exchange))
            assert seen[0][0] != seen[1][0] and seen[0][1] != seen[1][1]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
