"""Issue 14.5: ``supportctl replay --log`` names a log by its service, with any schema, and
``--from`` is per log (positions are each log's own)."""

from __future__ import annotations

import pytest

from gateway.cli import main
from gateway.logs import LOGS, parse_logs, parse_positions


def test_a_log_is_its_service_with_its_default_or_its_own_schema() -> None:
    assert parse_logs(None) == {service: service for service in LOGS}
    logs = parse_logs(["media_relay=relay_eu", "session_svc"])
    assert logs == {"media_relay": "relay_eu", "session_svc": "session_svc"}
    for bad in ("relay_eu", "media_relay="):
        with pytest.raises(ValueError, match="--log"):
            parse_logs([bad])


def test_a_position_is_for_every_log_or_for_one() -> None:
    logs = parse_logs(None)
    assert parse_positions(None, logs) == dict.fromkeys(LOGS, -1)
    after = parse_positions(["100", "media_relay=7"], logs)
    assert after == {**dict.fromkeys(LOGS, 100), "media_relay": 7}
    with pytest.raises(ValueError, match="not a log being replayed"):
        parse_positions(["invite_svc=3"], parse_logs(["session_svc"]))
    with pytest.raises(ValueError, match="whole number"):
        parse_positions(["media_relay=x"], logs)


def test_supportctl_replay_refuses_a_log_it_cannot_place(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["replay", "--queue", "q", "--log", "relay_eu"]) == 2
    assert "name the service" in capsys.readouterr().err
