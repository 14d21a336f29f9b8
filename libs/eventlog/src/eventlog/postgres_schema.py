"""The log's tables, created or migrated on start: idempotent and safe for replicas that
start together (an advisory lock orders them)."""

from __future__ import annotations

from typing import TypeAlias

import asyncpg
import structlog

Connection: TypeAlias = (
    "asyncpg.Connection[asyncpg.Record] | asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
)

log = structlog.get_logger(__name__)

MIGRATIONS: list[str] = [
    # 1: the log, the inbox, reader checkpoints
    """
    CREATE TABLE {s}.events (
        global_position bigint PRIMARY KEY,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version >= 0),
        event_id uuid NOT NULL,
        type text NOT NULL,
        schema_version integer NOT NULL,
        occurred_at timestamptz NOT NULL,
        correlation_id uuid NOT NULL,
        causation_id uuid NOT NULL,
        data jsonb NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
        CONSTRAINT events_event_id_key UNIQUE (event_id)
    );
    CREATE TABLE {s}.inbox (
        consumer text NOT NULL,
        event_id uuid NOT NULL,
        handled_at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (consumer, event_id)
    );
    CREATE TABLE {s}.checkpoints (
        name text PRIMARY KEY,
        position bigint NOT NULL
    );
    """,
    # 2: a reader's view as of a position, so that a start need not fold the whole log
    """
    CREATE TABLE {s}.snapshots (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        state bytea NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    """,
    # 3: the inbox's records are forgotten by age (issue 13: the table grew for good)
    """
    CREATE INDEX inbox_handled_at ON {s}.inbox (handled_at);
    """,
]


async def migrate(conn: Connection, schema: str) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"migrate:{schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        await conn.execute(
            f"CREATE TABLE IF NOT EXISTS {schema}.migrations ("
            " version integer PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT clock_timestamp())"
        )
        applied = {
            r["version"] for r in await conn.fetch(f"SELECT version FROM {schema}.migrations")
        }
        for version, statement in enumerate(MIGRATIONS, start=1):
            if version in applied:
                continue
            await conn.execute(statement.replace("{s}", schema))
            await conn.execute(f"INSERT INTO {schema}.migrations (version) VALUES ($1)", version)
            log.info("eventlog.migrated", schema=schema, version=version)
