#!/usr/bin/env bash
# Runs `brainwire-probe check` against the example brain and against the real z4j brain
# (1.13.0 from PyPI, started on loopback as the real-peer tests do; needs the reference
# venv: bash scripts/setup-reference.sh). Fails unless every check passes against both.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q -p brainwire-probe -p brainwire-examples --example brain
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

target/debug/examples/brain --listen 127.0.0.1:0 --no-command >"$work/brain" 2>&1 &
brain=$!
for _ in $(seq 100); do grep -q '^listening on' "$work/brain" && break; sleep 0.1; done
url=$(sed -n 's|^listening on \(ws://.*\)$|\1|p' "$work/brain")
echo "== the example brain ($url)"
target/debug/brainwire-probe check --url "$url" --format table \
  --token "$(sed -n 's/^agent token: //p' "$work/brain")" \
  --hmac-secret "$(sed -n 's/^hmac secret: //p' "$work/brain")"
kill $brain

# The real brain prints one JSON line once it accepts agents, then waits for `stop`.
mkfifo "$work/control"
.venv/bin/python tests/reference/real_brain.py <"$work/control" >"$work/real" 2>"$work/real.err" &
real=$!
exec 3>"$work/control"
for _ in $(seq 1200); do [ -s "$work/real" ] && break; sleep 0.1; done
field() { .venv/bin/python -c "import json, sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])" "$work/real" "$1"; }
echo "== the real z4j brain ($(field url))"
status=0
target/debug/brainwire-probe check --url "$(field url)" --token "$(field token)" \
  --hmac-secret "$(field hmac_secret)" --format table || status=$?
echo stop >&3
exec 3>&-
wait $real || true
exit $status
