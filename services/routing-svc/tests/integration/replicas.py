"""routing-svc replicas for a test: each a whole service (own pools, connections, router) on
the test's schema and names, as separate pods would run it."""

from __future__ import annotations

from routing_svc.settings import Settings
from support_testkit.plugin import SettingsFor


def settings(settings_for: SettingsFor, schema: str, session_commands: str) -> Settings:
    return settings_for(
        Settings, schema, session_commands=session_commands, pool_size=4,
        named_offer_timeout_seconds=2,
    )  # fmt: skip
