"""``supportctl``: tools for people who run the service.

    supportctl token alice --role csr --role agent [--name "Alice Novak"] [--ttl 28800]

mints a development bearer token signed with ``JWT_SECRET`` (issuer ``JWT_ISSUER``, audience
``JWT_AUDIENCE``, as the gateway checks them). Real deployments use their identity provider.

    supportctl migrate [--log session_svc ...] [--no-topology]

creates or migrates the services' logs (``DATABASE_URL``) and declares the broker's whole
topology (``AMQP_URL``, ``EXCHANGE``, ``QUEUE_PREFIX``: every command queue, every consumer's
queue with its bindings), and exits: what the Kubernetes migration Job runs before a rollout,
so no event is published before the queue that needs it exists (each service also migrates
and declares on start).

    supportctl replay --queue analytics.backfill [--from N | --from media_relay=N ...]
                      [--log session_svc ... | --log media_relay=SCHEMA ...]

publishes the events each of the services' logs (``DATABASE_URL``) recorded itself after a
position (per log: positions are each log's own) to a queue of an analytics consumer
(``AMQP_URL``), to backfill it before it follows its own queue (``gateway.replay``). A log is
named by its service, with its schema when it is not the default one. It prints its progress,
and the last position of each log, as ``--from`` takes them again.

    supportctl dead list --queue media-relay.session-events [--limit 100]
    supportctl dead redrive --queue media-relay.session-events [--limit N]

lists a consumer's dead letters (``<queue>.dead`` on ``AMQP_URL``), one JSON line each with
the error that put it there, removing none; or, once the cause is fixed, moves them back to
the consumer's queue to be handled again (``eventlog.dead_letters``), and prints how many.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from gateway.logs import LOGS, parse_logs, parse_positions
from gateway.tokens import DEV_AUDIENCE, DEV_ISSUER, DEV_TOKEN_SECONDS, Role, staff_token

# the rest is imported by the command that needs it: ``supportctl token`` answers at once


async def migrate_log(database_url: str, schema: str) -> None:
    from eventlog.postgres import PostgresEventStore

    store = await PostgresEventStore.connect(database_url, schema, max_size=1)
    await store.ready()
    await store.close()


async def declare(amqp_url: str) -> int:
    from eventlog.rabbit import declare_topology
    from support_contracts import EXCHANGE
    from support_contracts.topology import Topology

    exchange = os.environ.get("EXCHANGE", EXCHANGE)
    topology = Topology(exchange, os.environ.get("QUEUE_PREFIX", ""))
    await declare_topology(amqp_url, topology)
    return len(topology.queues)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="supportctl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="mint a development bearer token")
    token.add_argument("user")
    token.add_argument("--role", action="append", choices=[r.value for r in Role], default=[])
    token.add_argument("--name")
    token.add_argument("--ttl", type=int, default=DEV_TOKEN_SECONDS, help="seconds it stays good")
    replay = commands.add_parser("replay", help="backfill an analytics consumer's queue")
    replay.add_argument("--queue", required=True, help="the consumer's backfill queue")
    replay.add_argument(
        "--from", dest="after", action="append", help="after N, or SERVICE=N for one log (-1)"
    )
    replay.add_argument(
        "--log", action="append", help=f"SERVICE or SERVICE=SCHEMA ({', '.join(LOGS)}: all)"
    )
    migrate = commands.add_parser("migrate", help="create or migrate the services' logs")
    migrate.add_argument("--log", action="append", help="a schema (all the services')")
    migrate.add_argument("--no-topology", action="store_true", help="the logs only")
    dead = commands.add_parser("dead", help="a consumer's dead letters: list or re-drive them")
    dead.add_argument("action", choices=["list", "redrive"])
    dead.add_argument("--queue", required=True, help="the consumer's queue (not its .dead)")
    dead.add_argument("--limit", type=int, help="at most this many (list: 100)")
    commands.add_parser("openapi", help="print the gateway's /openapi.json (the consoles' build)")
    args = parser.parse_args(argv)
    if args.command == "openapi":
        from gateway.app import create_app

        print(json.dumps(create_app(None).openapi(), indent=1, sort_keys=True))
        return 0
    database_url = os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    amqp_url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if args.command == "dead":
        return _dead_letters(amqp_url, args.action, args.queue, args.limit)
    if args.command == "migrate":
        for log in args.log or [*LOGS, "gateway"]:
            asyncio.run(migrate_log(database_url, log))
            print(f"{log}: migrated")
        if not args.no_topology:
            print(f"topology: {asyncio.run(declare(amqp_url))} queues declared")
        return 0
    if args.command == "replay":
        from gateway.replay import replay as run_replay

        try:
            logs = parse_logs(args.log)
            after = parse_positions(args.after, logs)
        except ValueError as error:
            print(f"supportctl: {error}", file=sys.stderr)
            return 2
        last = asyncio.run(run_replay(database_url, amqp_url, args.queue, logs, after))
        print(json.dumps(last))
        return 0
    secret = os.environ.get("JWT_SECRET")
    if not secret or len(secret) < 32:
        print("supportctl: set JWT_SECRET (32+ characters), as the gateway has it", file=sys.stderr)
        return 2
    print(
        staff_token(
            secret,
            args.user,
            args.role or [Role.CSR.value],
            name=args.name,
            issuer=os.environ.get("JWT_ISSUER", DEV_ISSUER),
            audience=os.environ.get("JWT_AUDIENCE", DEV_AUDIENCE),
            ttl_seconds=args.ttl,
        )
    )
    return 0


def _dead_letters(amqp_url: str, action: str, queue: str, limit: int | None) -> int:
    from eventlog.dead_letters import list_dead, redrive

    try:
        if action == "list":
            for letter in asyncio.run(list_dead(amqp_url, queue, limit=limit or 100)):
                print(json.dumps(letter.summary()))
        else:
            print(f"{queue}: {asyncio.run(redrive(amqp_url, queue, limit=limit))} re-driven")
    except LookupError as error:
        print(f"supportctl: {error}", file=sys.stderr)
        return 1
    return 0


def run() -> None:
    """The ``supportctl`` command: logs to stderr, results on stdout."""
    import structlog

    structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
    sys.exit(main())


if __name__ == "__main__":
    run()
