# Helpers for the test tooling: install what is missing, start real servers on free loopback
# ports in temporary directories, and stop them on exit. Sourced by scripts/test and
# scripts/bench-seed; not meant to be run on its own.

# Whether a missing service must fail the run instead of being skipped.
strict() { [ "${CI:-}" = "true" ]; }

log() { printf '==> %s\n' "$*" >&2; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# apt-get install, as root only, with one update first.
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "cannot install $* without root; install it yourself"
    return 1
  fi
  if [ -z "${_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

pg_bindir() {
  for v in 17 16 15; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then
      echo "/usr/lib/postgresql/$v/bin"
      return 0
    fi
  done
  return 1
}

# For tests only (benchmarks keep the defaults): every test copies the dataset into a
# database of its own, and each copy goes into the WAL whole, so checkpoints every 256 MB
# recycle it. wal_keep_size covers a replica that a test stops for a few seconds, since the
# replica streams without a slot.
PG_WAL_BOUNDS="-c max_wal_size=256MB -c min_wal_size=64MB -c wal_keep_size=256MB"

# Starts a throwaway PostgreSQL and exports CHINOOK_TEST_POSTGRES_URL (a superuser URL on
# its `postgres` database). PostgreSQL refuses to run as root, so as root the server runs as
# the `postgres` system user in a directory that user owns. With PG_DURABLE=1 it keeps
# PostgreSQL's default fsync settings.
start_postgres() {
  local bin
  if ! bin=$(pg_bindir); then
    log "PostgreSQL server binaries missing; installing postgresql"
    apt_install postgresql >/dev/null || true
    bin=$(pg_bindir) || { log "PostgreSQL is not available"; return 1; }
  fi
  PG_DIR=$(mktemp -d /tmp/chinook-pg.XXXXXX)
  local port; port=$(free_port)
  local as=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_DIR" postgres
    chown postgres "$PG_DIR"
    as=(runuser -u postgres --)
  fi
  PG_RUN=("${as[@]}")
  # Tests need no durability and run faster without it; benchmarks set PG_DURABLE=1.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off $PG_WAL_BOUNDS"
  [ "${PG_DURABLE:-}" = 1 ] && durability=""
  "${as[@]}" "$bin/initdb" -D "$PG_DIR/data" -U chinook --auth=trust -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  "${as[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=2000 $durability" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_BIN=$bin
  export CHINOOK_TEST_POSTGRES_URL="postgres://chinook@127.0.0.1:$port/postgres"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $port ($PG_DIR)"
}

# Starts a streaming replica of the server start_postgres started: pg_basebackup -R copies
# the primary and writes the standby settings, and the copy runs as a hot standby on a free
# port. Exports CHINOOK_TEST_REPLICA_URL (the replica's `postgres` database) and, for tests
# that stop or restart it, CHINOOK_TEST_REPLICA_DATA (its data directory),
# CHINOOK_TEST_PG_BIN (the server binaries) and CHINOOK_TEST_PG_RUN (the command prefix that
# runs them as the server's user; empty when not root).
start_replica() {
  [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ] || { log "start_postgres must run before start_replica"; return 1; }
  local primary_port=${CHINOOK_TEST_POSTGRES_URL##*:}
  primary_port=${primary_port%%/*}
  local port; port=$(free_port)
  local data="$PG_DIR/replica"
  "${PG_RUN[@]}" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U chinook -D "$data" \
    -R -X stream -c fast >"$PG_DIR/basebackup.log" 2>&1 \
    || { cat "$PG_DIR/basebackup.log" >&2; return 1; }
  # The copy keeps the primary's settings from the command line only, so they are repeated;
  # a standby needs at least the primary's max_connections.
  local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off $PG_WAL_BOUNDS"
  [ "${PG_DURABLE:-}" = 1 ] && durability=""
  local options="-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=2000 -c hot_standby=on $durability"
  # Kept in the data directory so a test that stops the replica can start it the same way.
  printf '%s\n' "$options" | "${PG_RUN[@]}" tee "$data/chinook-options" >/dev/null
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$PG_DIR/replica.log" -w -t 60 -o "$options" \
    start >/dev/null || { cat "$PG_DIR/replica.log" >&2; return 1; }
  export CHINOOK_TEST_REPLICA_URL="postgres://chinook@127.0.0.1:$port/postgres"
  export CHINOOK_TEST_REPLICA_DATA="$data"
  export CHINOOK_TEST_PG_BIN="$PG_BIN"
  export CHINOOK_TEST_PG_RUN="${PG_RUN[*]}"
  log "PostgreSQL streaming replica on port $port ($data)"
}

stop_postgres() {
  if [ -n "${CHINOOK_TEST_REPLICA_DATA:-}" ] && [ -d "$CHINOOK_TEST_REPLICA_DATA" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$CHINOOK_TEST_REPLICA_DATA" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

redis_server_bin() {
  command -v redis-server 2>/dev/null || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; }
}

# Starts a throwaway redis-server (no persistence, loopback, a free port, a temporary
# directory) and exports CHINOOK_TEST_REDIS_URL, and CHINOOK_TEST_REDIS_SERVER (the binary)
# for tests that run servers of their own. Installs redis-server when missing.
start_redis() {
  local bin
  if ! bin=$(redis_server_bin); then
    log "redis-server missing; installing redis-server"
    apt_install redis-server >/dev/null || true
    bin=$(redis_server_bin) || { log "redis-server is not available"; return 1; }
  fi
  # Debian's package starts a system-wide server; the tests never use it.
  REDIS_DIR=$(mktemp -d /tmp/chinook-redis.XXXXXX)
  local port; port=$(free_port)
  "$bin" --port "$port" --bind 127.0.0.1 --dir "$REDIS_DIR" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --maxclients 10000 >/dev/null || { cat "$REDIS_DIR/redis.log" >&2; return 1; }
  local i
  for i in $(seq 1 100); do
    if [ -s "$REDIS_DIR/redis.pid" ] && python3 - "$port" <<'PY' 2>/dev/null; then
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
s.sendall(b"PING\r\n")
sys.exit(0 if s.recv(16).startswith(b"+PONG") else 1)
PY
      REDIS_PORT=$port
      export CHINOOK_TEST_REDIS_URL="redis://127.0.0.1:$port"
      export CHINOOK_TEST_REDIS_SERVER="$bin"
      log "Redis $("$bin" --version | awk '{print $3}' | tr -d 'v=') on port $port ($REDIS_DIR)"
      return 0
    fi
    sleep 0.05
  done
  log "redis-server did not answer"; cat "$REDIS_DIR/redis.log" >&2
  return 1
}

stop_redis() {
  if [ -n "${REDIS_DIR:-}" ] && [ -d "$REDIS_DIR" ]; then
    local pid=
    [ -s "$REDIS_DIR/redis.pid" ] && pid=$(cat "$REDIS_DIR/redis.pid")
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
      # It logs into the directory as it stops: removing the directory under it fails
      # ("Directory not empty"), so wait (up to 10 s) for it to be gone first.
      local waited=0
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
      done
    fi
    rm -rf "$REDIS_DIR" || { sleep 1; rm -rf "$REDIS_DIR"; } || log "could not remove $REDIS_DIR"
  fi
}
