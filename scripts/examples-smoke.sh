#!/usr/bin/env bash
# Runs the example programs as separate processes, the way the README shows them: a
# brain, then run-watch and dashboard following it, then an agent reporting to it.
# Fails unless each client exits 0 having seen what the agent reported.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p brainwire-examples --examples
bin=target/debug/examples
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin/brain" --listen 127.0.0.1:0 --no-command >"$work/brain" 2>&1 &
for _ in $(seq 100); do grep -q '^channels on' "$work/brain" && break; sleep 0.1; done
token=$(sed -n 's/^agent token: //p' "$work/brain")
secret=$(sed -n 's/^hmac secret: //p' "$work/brain")
addr=$(sed -n 's|^listening on ws://\(.*\)/ws/agent$|\1|p' "$work/brain")
dashboard_token=$(sed -n 's|^channels on .*?token=\([^ ]*\) .*|\1|p' "$work/brain")
project=$(sed -n 's|^channels on .*(project:\([^,]*\),.*|\1|p' "$work/brain")
echo "brain on $addr, project $project"

# Eight events of the four kinds the agent cycles through: eight run messages, and on
# the project channel eight status changes plus six agent events.
timeout 60 "$bin/run-watch" --url "ws://$addr/ws" --runs 8 >"$work/runs" &
watcher=$!
timeout 60 "$bin/dashboard" --url "ws://$addr/api/ws" --token "$dashboard_token" \
  --channel "project:$project" --events 14 >"$work/events" &
dashboard=$!
for _ in $(seq 100); do grep -q ' connected ' "$work/runs" && break; sleep 0.1; done
for _ in $(seq 100); do grep -q '"subscribed"' "$work/events" && break; sleep 0.1; done
timeout 60 "$bin/agent" --url "ws://$addr/ws/agent" --token "$token" --hmac-secret "$secret" --events 8
wait "$watcher"
wait "$dashboard"
cat "$work/runs" "$work/events"
test "$(grep -c -E ' run_(update|complete|failed) ' "$work/runs")" -eq 8
grep -q '^8 tasks:' "$work/runs"
test "$(grep -c '^task.status_changed ' "$work/events")" -eq 8
test "$(grep -c -E '^agent\.(spawned|completed|failed) ' "$work/events")" -eq 6

# The minimal agent and brain of the README, on brainwire-tokio.
minimal_secret=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')
"$bin/minimal-brain" --listen 127.0.0.1:0 --agent-token minimal-token --hmac-secret "$minimal_secret" \
  >"$work/minimal-brain" 2>&1 &
for _ in $(seq 100); do grep -q '^listening on' "$work/minimal-brain" && break; sleep 0.1; done
minimal_url=$(sed -n 's|^listening on \(ws://.*\)$|\1|p' "$work/minimal-brain")
timeout 60 "$bin/minimal-agent" --url "$minimal_url" --token minimal-token \
  --hmac-secret "$minimal_secret" --events 250 | tee "$work/minimal-agent"
grep -q '^250 events acknowledged, 0 left$' "$work/minimal-agent"
echo "examples smoke: ok"
