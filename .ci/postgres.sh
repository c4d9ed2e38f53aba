#!/usr/bin/env bash
# Sets up a local PostgreSQL for the history tests on a Debian machine (run as
# root). Idempotent. Everything goes to stderr except the last stdout line:
#   export DATABASE_URL=postgres://postgres:<pw>@127.0.0.1:5432/denizen_test
# Use it as: eval "$(bash .ci/postgres.sh | tail -1)"
set -euo pipefail

PASSWORD="${DENIZEN_PG_PASSWORD:-denizen}"
DB="denizen_test"

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y postgresql >&2
fi

VERSION="$(ls /etc/postgresql | sort -V | tail -1)"
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$VERSION" main >&2
fi
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  pg_ctlcluster "$VERSION" main start >&2
fi

for _ in $(seq 1 30); do
  if su postgres -c "pg_isready -q -h 127.0.0.1 -p 5432" >/dev/null 2>&1; then break; fi
  sleep 1
done

su postgres -c "psql -q -v ON_ERROR_STOP=1 -c \"ALTER USER postgres PASSWORD '${PASSWORD}'\"" >&2
if ! su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = '${DB}'\"" | grep -q 1; then
  su postgres -c "createdb ${DB}" >&2
fi

echo "export DATABASE_URL=postgres://postgres:${PASSWORD}@127.0.0.1:5432/${DB}"
