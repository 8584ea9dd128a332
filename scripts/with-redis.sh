#!/usr/bin/env bash
# Runs a command with a redis-server of its own: installed from the Debian packages when
# missing (as root), started on a free loopback port with its own data directory (no
# persistence), exported as BRAINWIRE_REDIS_URL, and stopped when the command ends.
#
#   bash scripts/with-redis.sh cargo test --workspace
set -euo pipefail
if ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else
    echo "redis-server is missing: install it (apt-get install redis-server)" >&2
    exit 1
  fi
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no >"$dir/log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start:" >&2; cat "$dir/log" >&2; exit 1; }
export BRAINWIRE_REDIS_URL="redis://127.0.0.1:$port"
echo "redis-server on $BRAINWIRE_REDIS_URL" >&2
"$@"
