"""routing-svc replicas for a test: each a whole service (own pools, connections, router) on
the test's schema and names, as separate pods would run it."""

from __future__ import annotations

from routing_svc.settings import Settings
from support_testkit.plugin import RabbitNames


def settings(
    amqp_url: str, database_url: str, schema: str, names: RabbitNames, session_commands: str
) -> Settings:
    return Settings(
        amqp_url=amqp_url,
        database_url=database_url,
        database_schema=schema,
        exchange=names.exchange,
        queue_prefix=names.prefix,
        session_commands=session_commands,
        pool_size=4,
        named_offer_timeout_seconds=2,
    )
