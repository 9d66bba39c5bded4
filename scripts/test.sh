#!/usr/bin/env bash
# `make test`: find a real Redis (REDIS_URL, else localhost:6379, else start redis-server on a
# free port), say which, and run the whole suite. DATABASE_URL picks the database (default SQLite).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

pings() {
  "$PY" - "$1" <<'PYEOF' >/dev/null 2>&1
import sys
from redis import Redis
Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()
PYEOF
}

started_pid=""
cleanup() { if [ -n "$started_pid" ]; then kill "$started_pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

if [ -n "${REDIS_URL:-}" ] && pings "$REDIS_URL"; then
  redis="$REDIS_URL"; echo "make test: using the Redis at REDIS_URL ($redis), database 15"
elif pings "redis://127.0.0.1:6379"; then
  redis="redis://127.0.0.1:6379"; echo "make test: using the Redis on localhost:6379, database 15"
elif command -v redis-server >/dev/null 2>&1; then
  port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  dir=$(mktemp -d)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no \
    >"$dir/redis.log" 2>&1 &
  started_pid=$!
  for _ in $(seq 50); do pings "redis://127.0.0.1:$port" && break; sleep 0.1; done
  redis="redis://127.0.0.1:$port"; echo "make test: started redis-server on port $port for this run"
else
  echo "make test: no Redis answers at REDIS_URL or localhost:6379 and redis-server is not installed." >&2
  echo "Install Redis (e.g. apt-get install redis-server) or set REDIS_URL." >&2
  exit 2
fi

echo "make test: database ${DATABASE_URL:-SQLite (a temporary file)}"
if [ -x /usr/bin/chromium ] || command -v chromium >/dev/null 2>&1; then
  echo "make test: browser tests use $(command -v chromium || echo /usr/bin/chromium)"
else
  echo "make test: NO Chromium found: the browser tests will be SKIPPED (apt-get install chromium)"
fi
export MINERLINE_TEST_REDIS_URL="$redis"
exec "$PY" -m pytest "$@"
