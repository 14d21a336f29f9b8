"""``supportctl``: tools for people who run the service.

    supportctl token alice --role csr --role agent [--name "Alice Novak"] [--ttl 28800]

mints a development bearer token signed with ``JWT_SECRET`` (issuer ``JWT_ISSUER``, audience
``JWT_AUDIENCE``, as the gateway checks them). Real deployments use their identity provider.
"""

from __future__ import annotations

import argparse
import os
import sys

from gateway.identity import Role, staff_token
from gateway.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="supportctl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    token = commands.add_parser("token", help="mint a development bearer token")
    token.add_argument("user")
    token.add_argument("--role", action="append", choices=[r.value for r in Role], default=[])
    token.add_argument("--name")
    token.add_argument("--ttl", type=int, default=8 * 3600, help="seconds it stays good")
    args = parser.parse_args(argv)
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
