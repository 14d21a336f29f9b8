"""The log's SQL (``eventlog.postgres``): every statement of one schema, written once, and the
appends that run them (the version check, the positions and the inbox record in one
statement; see ``eventlog.postgres`` for why the positions are gap-free). What runs a
decision's statements, in a transaction or without one, is in ``postgres_tx``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from eventlog.model import (
    NO_STREAM,
    Append,
    ConcurrencyConflict,
    DuplicateEvent,
    Expected,
    Handling,
    NewEvent,
    StreamState,
    satisfied,
    with_events,
)
from eventlog.postgres_schema import Connection
from support_contracts import Envelope

POSITION_SHIFT = 16
MAX_EVENTS_PER_TRANSACTION = 1 << POSITION_SHIFT
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,50}$")
_COLUMNS = (
    "global_position, stream_id, stream_version, event_id, type, schema_version,"
    " occurred_at, correlation_id, causation_id, data"
)


class Statements:
    """The SQL of one schema, written once."""

    def __init__(self, schema: str) -> None:
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"schema name {schema!r}: lower-case letters, digits and _ only")
        events = f"{schema}.events"
        self.channel = f"eventlog_{schema}"
        current = f"""
            SELECT coalesce(max(stream_version), -1) AS version
            FROM {events} WHERE stream_id = $1"""
        position = f"(pg_current_xact_id()::text::bigint << {POSITION_SHIFT}) + $2"
        many = f"""
            INSERT INTO {events} ({_COLUMNS})
            SELECT {position} + e.ord - 1,
                   $1, current.version + e.ord, e.event_id, e.type, e.schema_version,
                   e.occurred_at, e.correlation_id, e.causation_id, e.data
            FROM current, unnest($3::uuid[], $4::text[], $5::int[], $6::timestamptz[],
                                 $7::uuid[], $8::uuid[], $9::jsonb[])
                 WITH ORDINALITY AS e(event_id, type, schema_version, occurred_at,
                                      correlation_id, causation_id, data, ord)"""
        # the common single event, without encoding seven one-element arrays
        one = f"""
            INSERT INTO {events} ({_COLUMNS})
            SELECT {position}, $1, current.version + 1, $3, $4, $5, $6, $7, $8, $9
            FROM current"""
        # $10: the expected version; NULL for any, -2 for a stream that exists (_parameter)
        expected = (
            "$10::int IS NULL OR current.version = $10::int"
            " OR ($10::int = -2 AND current.version >= 0)"
        )
        returning = "RETURNING global_position, stream_version"
        self.append = f"WITH current AS ({current}) {many} WHERE {expected} {returning}"
        self.append_one = f"WITH current AS ({current}) {one} WHERE {expected} {returning}"
        # the same, recorded in the inbox as handling $12 for the consumer $11 in the same
        # statement: nothing is written if it was recorded before or the version differs, and
        # the one row then says which (``before``) and the stream's version
        once = f"""
            WITH found AS ({current}),
            current AS (SELECT version FROM found AS current WHERE {expected}),
            handled AS (
                INSERT INTO {schema}.inbox (consumer, event_id) SELECT $11::text, $12::uuid
                FROM current ON CONFLICT DO NOTHING RETURNING true),
            written AS ({{insert}}, handled {returning})
            SELECT global_position, stream_version, false AS before FROM written
            UNION ALL
            SELECT NULL, version, EXISTS (SELECT FROM current) FROM found
            WHERE NOT EXISTS (SELECT FROM written)"""
        # several streams in one statement, each at its expected version ($2, a row's
        # stream's; NULL for any, -2 for one that exists): all of it, or nothing when one
        # stream is not where it was expected; each stream's version found by its own index
        # scan (the LATERAL), its events numbered on from there in the order given
        streams = f"""
            WITH given AS (
                SELECT * FROM unnest($1::text[], $2::int[], $3::uuid[], $4::text[],
                                     $5::int[], $6::timestamptz[], $7::uuid[], $8::uuid[],
                                     $9::jsonb[])
                    WITH ORDINALITY AS e(stream_id, expected, event_id, type, schema_version,
                                         occurred_at, correlation_id, causation_id, data, ord)),
            current AS (
                SELECT s.stream_id, s.expected, v.version
                FROM (SELECT DISTINCT stream_id, expected FROM given) AS s
                CROSS JOIN LATERAL (
                    SELECT coalesce(max(stream_version), -1) AS version
                    FROM {events} WHERE stream_id = s.stream_id) AS v),
            checked AS (
                SELECT bool_and(expected IS NULL OR version = expected
                                OR (expected = -2 AND version >= 0)){{unmoved}} AS ok
                FROM current){{handled}}
            INSERT INTO {events} ({_COLUMNS})
            SELECT (pg_current_xact_id()::text::bigint << {POSITION_SHIFT}) + $10 + g.ord - 1,
                   g.stream_id,
                   c.version + row_number() OVER (PARTITION BY g.stream_id ORDER BY g.ord),
                   g.event_id, g.type, g.schema_version, g.occurred_at, g.correlation_id,
                   g.causation_id, g.data
            FROM given AS g JOIN current AS c USING (stream_id), checked
            WHERE checked.ok{{recorded}}
            RETURNING global_position, stream_version"""
        self.append_streams = streams.format(unmoved="", handled="", recorded="")
        # the same as a decision's one write, in autocommit (``postgres_tx.PostgresDecision``):
        # also nothing when a stream it only read ($11) has an event past the version read
        # ($12), and the command's record ($13 handled $14) with the events, nothing if it is
        # there
        self.append_decided = streams.format(
            unmoved=f"""
                AND NOT EXISTS (
                    SELECT FROM unnest($11::text[], $12::int[]) AS r(stream_id, version)
                    WHERE EXISTS (SELECT FROM {events} WHERE stream_id = r.stream_id
                                                         AND stream_version > r.version))""",
            handled=f""",
            handled AS (
                INSERT INTO {schema}.inbox (consumer, event_id)
                SELECT $13::text, $14::uuid FROM checked
                WHERE checked.ok AND $13::text IS NOT NULL
                ON CONFLICT DO NOTHING RETURNING true)""",
            recorded=" AND ($13::text IS NULL OR EXISTS (SELECT FROM handled))",
        )
        self.append_once = once.format(insert=many)
        self.append_one_once = once.format(insert=one)
        self.stream_version = (
            f"SELECT coalesce(max(stream_version), -1) FROM {events} WHERE stream_id = $1"
        )
        self.read_stream = f"""
            SELECT {_COLUMNS} FROM {events}
            WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version"""
        # with the last position recorded (``head``) on every row, and one row of nulls but
        # for it when nothing can be read: what a reader then waits for (``wait_for_events``)
        self.read_all = f"""
            SELECT e.*, last.position AS head
            FROM (SELECT max(global_position) AS position FROM {events}) AS last
            LEFT JOIN LATERAL (
                SELECT {_COLUMNS} FROM {events}
                WHERE global_position > $1
                  AND global_position < (pg_snapshot_xmin(pg_current_snapshot())::text::bigint
                                         << {POSITION_SHIFT})
                ORDER BY global_position LIMIT $2) AS e ON true
            ORDER BY e.global_position"""
        self.head = f"SELECT max(global_position) FROM {events}"
        # max() is one step down the primary key's index whatever the log's size; with
        # EXISTS (... WHERE global_position > $1), asyncpg's generic plan scanned the table
        self.any_after = f"SELECT coalesce(max(global_position) > $1, false) FROM {events}"
        self.notify = f"NOTIFY {self.channel}"
        # what a decision will read, every stream ($1) from its first version wanted ($4) in
        # one statement, with the inbox's record of the command ($2 handled $3; none with a
        # NULL $2): a row an event, by stream, and ``first`` on every row, on a row of nulls
        # but for it when none has any. Each stream is an index scan of its own (the LATERAL):
        # joined, the generic plan hashed the streams wanted and scanned the whole log
        # (measured: 1.2 ms on a log of 6,000 events against 0.1)
        ahead = f"""
            SELECT e.*, ($2::text IS NULL OR {{first}}) AS first
            FROM (SELECT) AS one
            LEFT JOIN LATERAL (
                SELECT ev.* FROM unnest($1::text[], $4::int[]) AS r(stream_id, version)
                CROSS JOIN LATERAL (
                    SELECT {_COLUMNS} FROM {events}
                    WHERE stream_id = r.stream_id AND stream_version >= r.version
                    ORDER BY stream_version) AS ev) AS e ON true
            ORDER BY e.stream_id, e.stream_version"""
        self.read_ahead = f"""
            WITH handled AS (
                INSERT INTO {schema}.inbox (consumer, event_id)
                SELECT $2::text, $3::uuid WHERE $2::text IS NOT NULL
                ON CONFLICT DO NOTHING RETURNING true)
            {ahead.format(first="EXISTS (SELECT FROM handled)")}"""
        # the same for a decision (``postgres_tx.PostgresDecision``): the record looked for
        self.read_ahead_unrecorded = ahead.format(
            first=f"NOT EXISTS (SELECT FROM {schema}.inbox WHERE consumer = $2 AND event_id = $3)"
        )
        self.record_handled = f"""
            INSERT INTO {schema}.inbox (consumer, event_id) VALUES ($1, $2)
            ON CONFLICT DO NOTHING RETURNING true"""
        self.forget_handled = f"""
            DELETE FROM {schema}.inbox WHERE ctid = ANY (ARRAY(
                SELECT ctid FROM {schema}.inbox WHERE handled_at < $1 LIMIT $2))"""
        self.load_checkpoint = f"SELECT position FROM {schema}.checkpoints WHERE name = $1"
        self.save_checkpoint = f"""
            INSERT INTO {schema}.checkpoints (name, position) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET position = excluded.position
            WHERE {schema}.checkpoints.position < excluded.position"""
        self.load_snapshot = f"SELECT position, state FROM {schema}.snapshots WHERE name = $1"
        self.save_snapshot = f"""
            INSERT INTO {schema}.snapshots (name, position, state) VALUES ($1, $2, $3)
            ON CONFLICT (name) DO UPDATE
            SET position = excluded.position, state = excluded.state, taken_at = clock_timestamp()
            WHERE {schema}.snapshots.position < excluded.position"""


def envelope_of(row: asyncpg.Record) -> Envelope:
    return Envelope.model_construct(
        event_id=row["event_id"],
        type=row["type"],
        schema_version=row["schema_version"],
        stream_id=row["stream_id"],
        stream_version=row["stream_version"],
        global_position=row["global_position"],
        occurred_at=row["occurred_at"],
        correlation_id=row["correlation_id"],
        causation_id=row["causation_id"],
        data=row["data"],
    )


async def append_events(
    conn: Connection,
    sql: Statements,
    stream_id: str,
    events: Sequence[NewEvent],
    expected_version: Expected,
    first_index: int,
    once: Handling | None = None,
) -> list[Envelope] | None:
    """The events recorded; with ``once`` (a consumer and what it handles), recorded as
    handled in the same statement, and None, with nothing written, if it was before."""
    if not events:
        return []
    if first_index + len(events) > MAX_EVENTS_PER_TRANSACTION:
        raise ValueError(f"at most {MAX_EVENTS_PER_TRANSACTION} events in one transaction")
    if len(events) == 1:
        [one] = events
        statement: str = sql.append_one if once is None else sql.append_one_once
        columns: tuple[Any, ...] = (
            one.event_id, one.type, one.schema_version, one.occurred_at,
            one.correlation_id, one.causation_id, one.data,
        )  # fmt: skip
    else:
        statement = sql.append if once is None else sql.append_once
        columns = (
            [e.event_id for e in events], [e.type for e in events],
            [e.schema_version for e in events], [e.occurred_at for e in events],
            [e.correlation_id for e in events], [e.causation_id for e in events],
            [e.data for e in events],
        )  # fmt: skip
    try:
        rows = await conn.fetch(
            statement, stream_id, first_index, *columns, _parameter(expected_version), *(once or ())
        )
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name and "event_id" in error.constraint_name:
            raise DuplicateEvent(f"an event of {stream_id} is in the log already") from error
        raise ConcurrencyConflict(stream_id, expected_version, None) from error
    except asyncpg.SerializationError as error:
        raise ConcurrencyConflict(stream_id, expected_version, None) from error
    if once is not None and rows[0]["global_position"] is None:
        if rows[0]["before"]:
            return None
        raise ConcurrencyConflict(stream_id, expected_version, rows[0]["stream_version"])
    if not rows:
        actual = await conn.fetchval(sql.stream_version, stream_id)
        raise ConcurrencyConflict(stream_id, expected_version, actual)
    return [
        event.recorded(stream_id, row["stream_version"], row["global_position"])
        for event, row in zip(events, rows, strict=True)
    ]


async def append_streams(
    conn: Connection,
    sql: Statements,
    appends: Sequence[Append],
    first_index: int,
    *,
    unmoved: Mapping[str, int] | None = None,
    record: Handling | None = None,
) -> list[list[Envelope]]:
    """Each stream's events recorded, in one statement: all of them, or a
    :class:`ConcurrencyConflict` for the first stream not where it was expected. A decision's
    write (``postgres_tx.PostgresDecision``) also gives the streams it only read, each at the
    version read (``unmoved``), and the command's record, written with the events: a stream
    moved since or the record there already is a conflict too."""
    given = with_events(appends)
    events = [(a, e) for a in given for e in a.events]
    if first_index + len(events) > MAX_EVENTS_PER_TRANSACTION:
        raise ValueError(f"at most {MAX_EVENTS_PER_TRANSACTION} events in one transaction")
    columns = (
        [a.stream_id for a, _ in events], [_parameter(a.expected) for a, _ in events],
        [e.event_id for _, e in events], [e.type for _, e in events],
        [e.schema_version for _, e in events], [e.occurred_at for _, e in events],
        [e.correlation_id for _, e in events], [e.causation_id for _, e in events],
        [e.data for _, e in events],
    )  # fmt: skip
    streams = ", ".join(a.stream_id for a in given)
    decided: tuple[Any, ...] = ()
    if unmoved is not None or record is not None:
        checked = unmoved or {}
        decided = (list(checked), list(checked.values()), *(record or (None, None)))
    statement = sql.append_decided if decided else sql.append_streams
    try:
        rows = await conn.fetch(statement, *columns, first_index, *decided) if events else []
    except asyncpg.UniqueViolationError as error:
        if error.constraint_name and "event_id" in error.constraint_name:
            raise DuplicateEvent(f"an event of {streams} is in the log already") from error
        raise ConcurrencyConflict(streams, StreamState.ANY, None) from error
    except asyncpg.SerializationError as error:
        raise ConcurrencyConflict(streams, StreamState.ANY, None) from error
    if events and not rows:
        for a in given:
            actual = await conn.fetchval(sql.stream_version, a.stream_id)
            if not satisfied(a.expected, actual):
                raise ConcurrencyConflict(a.stream_id, a.expected, actual)
        raise ConcurrencyConflict(streams, StreamState.ANY, None)  # each fine on a second look
    # the positions follow the order given, whatever order the rows came back in
    positioned = iter(sorted((row["global_position"], row["stream_version"]) for row in rows))
    recorded: dict[str, list[Envelope]] = {a.stream_id: [] for a in given}
    for (a, event), (position, version) in zip(events, positioned, strict=True):
        recorded[a.stream_id].append(event.recorded(a.stream_id, version, position))
    return [recorded.get(a.stream_id, []) for a in appends]


def _parameter(expected: Expected) -> int | None:
    """The expected version as the statements take it."""
    satisfied(expected, NO_STREAM)  # refuses what is not an expected version
    match expected:
        case StreamState.ANY:
            return None
        case StreamState.NO_STREAM:
            return NO_STREAM
        case StreamState.EXISTS:
            return -2
    return expected
