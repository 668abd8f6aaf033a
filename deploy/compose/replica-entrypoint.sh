#!/usr/bin/env bash
# A streaming replica of postgres-primary: cloned with pg_basebackup -R on first start
# (which writes standby.signal and primary_conninfo), then a hot standby.
set -euo pipefail
export PGDATA=/var/lib/postgresql/data/pgdata
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres-primary -p 5432; do sleep 1; done
  pg_basebackup -h postgres-primary -U replicator -D "$PGDATA" -R -X stream -c fast -P
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on
