#!/usr/bin/env bash
# Runs `brainwire-probe check` and `brainwire-probe load` against the example brain and
# against the real z4j brain (1.13.0 from PyPI, started on loopback as the real-peer
# tests do; needs the reference venv: bash scripts/setup-reference.sh), then prints the
# two brains' load figures side by side. Fails unless every check passes and every event
# is acknowledged against both.
#
#   bash scripts/probe-brains.sh                      # debug builds, as CI runs it
#   PROFILE=release bash scripts/probe-brains.sh      # the figures in BENCHMARKS.md
#
# LOAD_AGENTS and LOAD_EVENTS (4 and 2000) size the load; LOAD_ACK_DEADLINE (30 s,
# the reference agent waits 90 s) is how long an agent waits for a held-back ack before
# sending the batch again: the real brain holds some back under load.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${PROFILE:-debug}
agents=${LOAD_AGENTS:-4}
events=${LOAD_EVENTS:-2000}
ack_deadline=${LOAD_ACK_DEADLINE:-30}
cargo_profile=$([ "$profile" = debug ] && echo dev || echo "$profile")
# Two builds: `--example` alone would leave the probe's binary out.
cargo build -q --profile "$cargo_profile" -p brainwire-probe
cargo build -q --profile "$cargo_profile" -p brainwire-examples --example brain
probe=target/$profile/brainwire-probe
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
status=0

# load NAME URL SECRET: runs the load, keeps its JSON line in $work/load-NAME.
load() {
  echo "-- load: $agents agents x $events events"
  "$probe" load --url "$2" --token-file "$work/tokens-$1" --hmac-secret "$3" \
    --agents "$agents" --events "$events" --ack-deadline "$ack_deadline" \
    --time-limit 300 >"$work/load-$1" || status=1
  cat "$work/load-$1"
}

# It sends each agent a command after its first batch: `command_answered` passes, and the
# load's agents answer it.
target/$profile/examples/brain --listen 127.0.0.1:0 \
  --agents "$agents" --token-file "$work/tokens-example" >"$work/brain" 2>&1 &
brain=$!
for _ in $(seq 100); do grep -q '^listening on' "$work/brain" && break; sleep 0.1; done
url=$(sed -n 's|^listening on \(ws://.*\)$|\1|p' "$work/brain")
secret=$(sed -n 's/^hmac secret: //p' "$work/brain")
echo "== the example brain ($url)"
"$probe" check --url "$url" --format table --hmac-secret "$secret" \
  --token "$(sed -n 's/^agent token: //p' "$work/brain")" || status=1
load example "$url" "$secret"
kill $brain

# The real brain prints one JSON line once it accepts agents, then waits for `stop`.
mkfifo "$work/control"
.venv/bin/python tests/reference/real_brain.py --agents "$agents" --token-file "$work/tokens-real" \
  <"$work/control" >"$work/real" 2>"$work/real.err" &
real=$!
exec 3>"$work/control"
for _ in $(seq 1200); do [ -s "$work/real" ] && break; sleep 0.1; done
field() { .venv/bin/python -c "import json, sys; print(json.loads(open(sys.argv[1]).readline())[sys.argv[2]])" "$work/real" "$1"; }
echo "== the real z4j brain ($(field url))"
"$probe" check --url "$(field url)" --token "$(field token)" \
  --hmac-secret "$(field hmac_secret)" --format table || status=1
load real "$(field url)" "$(field hmac_secret)"
echo stop >&3
exec 3>&-
wait $real || true

echo "== load, side by side ($agents agents x $events events, $profile build, ack deadline ${ack_deadline}s)"
.venv/bin/python - "$work/load-example" "$work/load-real" <<'PY'
import json, sys
def figures(path):
    try:
        return json.load(open(path))["load"]
    except (OSError, ValueError, KeyError):
        sys.exit(f"no load figures in {path}")
example, real = (figures(path) for path in sys.argv[1:])
rows = [
    ("events acked", lambda r: f'{r["acked_events"]} of {r["planned_events"]}'),
    ("events/s", lambda r: f'{r["events_per_second"]:.1f}'),
    ("ack p50 ms", lambda r: f'{r["ack_latency_ms"]["p50"]:.1f}'),
    ("ack p99 ms", lambda r: f'{r["ack_latency_ms"]["p99"]:.1f}'),
    ("ack max ms", lambda r: f'{r["ack_latency_ms"]["max"]:.1f}'),
    ("batches (re-sent)", lambda r: f'{r["batches"]} ({r["resent_batches"]})'),
    ("reconnects", lambda r: str(r["reconnects"])),
    ("closes", lambda r: ", ".join(f"{c}x{n}" for c, n in r["closes"].items())),
    ("result", lambda r: r["result"]),
]
print(f'{"":<18} {"example brain":>16} {"z4j 1.13.0":>16}')
for name, cell in rows:
    print(f"{name:<18} {cell(example):>16} {cell(real):>16}")
PY
exit $status
