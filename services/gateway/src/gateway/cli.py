"""``supportctl``: tools for people who run the service.

    supportctl token alice --role csr --role agent [--name "Alice Novak"] [--ttl 28800]

mints a development bearer token signed with ``JWT_SECRET`` (issuer ``JWT_ISSUER``, audience
``JWT_AUDIENCE``, as the gateway checks them). Real deployments use their identity provider.

    supportctl replay --queue analytics.backfill [--from 0] [--log session_svc ...]

publishes the events of the services' logs (``DATABASE_URL``) after a position to a queue of
an analytics consumer (``AMQP_URL``), to backfill it before it follows its own queue
(``gateway.replay``). It prints its progress, and the last position of each log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys

from gateway.identity import Role, staff_token
from gateway.replay import LOGS
from gateway.replay import replay as run_replay
from gateway.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="supportctl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="mint a development bearer token")
    token.add_argument("user")
    token.add_argument("--role", action="append", choices=[r.value for r in Role], default=[])
    token.add_argument("--name")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="seconds it stays good")
    replay = commands.add_parser("replay", help="backfill an analytics consumer's queue")
    replay.add_argument("--queue", required=True, help="the consumer's backfill queue")
    replay.add_argument("--from", dest="after", type=int, default=-1, help="after this position")
    replay.add_argument("--log", action="append", choices=LOGS, help="a service's log (all)")
    args = parser.parse_args(argv)
    if args.command == "replay":
        last = asyncio.run(
            run_replay(
                os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
                args.queue,
                args.log or list(LOGS),
                args.after,
            )
        )
        print(json.dumps(last))
        return 0
    secret = os.environ.get("JWT_SECRET")
    if not secret or len(secret) < 32:
        print("supportctl: set JWT_SECRET (32+ characters), as the gateway has it", file=sys.stderr)
        return 2
    defaults = Settings.model_fields
    print(
        staff_token(
            secret,
            args.user,
            args.role or [Role.CSR.value],
            name=args.name,
            issuer=os.environ.get("JWT_ISSUER", str(defaults["jwt_issuer"].default)),
            audience=os.environ.get("JWT_AUDIENCE", str(defaults["jwt_audience"].default)),
            ttl_seconds=args.ttl,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
