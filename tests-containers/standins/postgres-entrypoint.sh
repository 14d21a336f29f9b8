#!/bin/sh
# The first start of an empty PGDATA, as the upstream postgres image does it: initdb with
# POSTGRES_USER (postgres) and POSTGRES_PASSWORD, other hosts by password (scram-sha-256, or
# POSTGRES_HOST_AUTH_METHOD), and the database POSTGRES_DB (the user's name) created.
set -eu
if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo "Error: Database is uninitialized and superuser password is not specified." >&2
    echo "  Set POSTGRES_PASSWORD (or POSTGRES_HOST_AUTH_METHOD=trust)." >&2
    exit 1
  fi
  password="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" > "$password"
  initdb --username="$user" --pwfile="$password" --auth-local=trust --auth-host="$auth" \
    --encoding=UTF8 -D "$PGDATA" >/dev/null
  rm -f "$password"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  echo "host all all all $auth" >> "$PGDATA/pg_hba.conf"
  database="${POSTGRES_DB:-$user}"
  if [ "$database" != postgres ]; then
    echo "CREATE DATABASE \"$database\";" | postgres --single -jE -D "$PGDATA" postgres >/dev/null
  fi
  echo "PostgreSQL init process complete; ready for start up."
fi
exec "$@"
