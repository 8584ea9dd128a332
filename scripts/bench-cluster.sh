#!/usr/bin/env bash
# Events per second into the example brain with a run-stream dashboard watching, twice in
# one run: one node (everything in memory), then two nodes sharing Redis with the agents on
# node A and the dashboard on node B (every event stored in Redis, published on its bus and
# delivered by B). `brainwire-probe load` sends LOAD_AGENTS x LOAD_EVENTS (4 x 2000).
# PROFILE=release for the figures in BENCHMARKS.md. Runs inside scripts/with-redis.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BRAINWIRE_REDIS_URL:-}" ]; then
  exec bash scripts/with-redis.sh bash "$0" "$@"
fi
profile=${PROFILE:-debug}
agents=${LOAD_AGENTS:-4}
events=${LOAD_EVENTS:-2000}
cargo_profile=$([ "$profile" = debug ] && echo dev || echo "$profile")
cargo build -q --profile "$cargo_profile" -p brainwire-probe
cargo build -q --profile "$cargo_profile" -p brainwire-examples --example brain --example run-watch
bin=target/$profile
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
token_args=()
for i in $(seq "$agents"); do
  echo "bench-agent-$i" >>"$work/tokens"
  token_args+=(--agent-token "bench-agent-$i")
done
runs=$((agents * events))

# node NAME [ARGS...]: starts a brain; its host:port goes to $addr, its pid to $pid.
node() {
  local name=$1
  shift
  "$bin/examples/brain" --listen 127.0.0.1:0 --no-command --hmac-secret "$secret" \
    --dashboard-token bench --admin-token bench --project-id "bench-$$" "${token_args[@]}" "$@" \
    >"$work/brain-$name" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -q '^api at' "$work/brain-$name" && break; sleep 0.1; done
  addr=$(sed -n 's|^listening on ws://\(.*\)/ws/agent$|\1|p' "$work/brain-$name")
}

# measure NAME AGENT_ADDR DASHBOARD_ADDR: the load into AGENT_ADDR while run-watch on
# DASHBOARD_ADDR must see every event; keeps the load's JSON in $work/load-NAME.
measure() {
  "$bin/examples/run-watch" --url "ws://$3/ws" --runs "$runs" >"$work/watch-$1" 2>&1 &
  local watcher=$!
  for _ in $(seq 100); do grep -q ' connected ' "$work/watch-$1" && break; sleep 0.1; done
  "$bin/brainwire-probe" load --url "ws://$2/ws/agent" --token-file "$work/tokens" \
    --hmac-secret "$secret" --agents "$agents" --events "$events" --time-limit 300 >"$work/load-$1"
  timeout 120 tail --pid "$watcher" -f /dev/null
  grep -q "^$runs tasks:" "$work/watch-$1" || { echo "the dashboard missed events ($1)" >&2; exit 1; }
}

node single
measure single "$addr" "$addr"
kill "$pid"
node a --redis "$BRAINWIRE_REDIS_URL" --node a
a=$addr
node b --redis "$BRAINWIRE_REDIS_URL" --node b
measure cluster "$a" "$addr"

echo "== $agents agents x $events events, a run-stream dashboard seeing each ($profile build)"
python3 - "$work/load-single" "$work/load-cluster" <<'PY'
import json, sys
single, cluster = (json.load(open(p))["load"] for p in sys.argv[1:])
rows = [
    ("events acked", lambda r: f'{r["acked_events"]} of {r["planned_events"]}'),
    ("events/s", lambda r: f'{r["events_per_second"]:.0f}'),
    ("ack p50 ms", lambda r: f'{r["ack_latency_ms"]["p50"]:.1f}'),
    ("ack p99 ms", lambda r: f'{r["ack_latency_ms"]["p99"]:.1f}'),
    ("result", lambda r: r["result"]),
]
print(f'{"":<14} {"one node":>12} {"two nodes":>12}')
for name, cell in rows:
    print(f"{name:<14} {cell(single):>12} {cell(cluster):>12}")
ratio = cluster["events_per_second"] / single["events_per_second"]
print(f"two nodes / one node: {ratio:.2f}")
PY
