#!/usr/bin/env bash
# Throughput seen from outside: `brainwire-conformance verify` and the reference
# (tests/reference/verify_lines.py) on the same JSON lines of signed frames, one process
# each, wall time from the first line in to the last answer out, beside the floor process
# (`bench_frames floor-lines`: parse each request and its frame, MAC the frame's bytes;
# what no verifier can beat). Needs the reference venv (bash scripts/setup-reference.sh).
# Both binaries build with the bench profile (fat LTO, one codegen unit), as the criterion
# benches and a production build do. Prints a Markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --profile bench -p brainwire-conformance
cargo build -q --profile bench -p brainwire-test-support --bin bench_frames
python=.venv/bin/python
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Wall seconds of a command.
seconds() {
  local start end
  start=$(date +%s%N)
  "$@"
  end=$(date +%s%N)
  awk -v ns=$((end - start)) 'BEGIN { printf "%.6f", ns / 1e9 }'
}

echo "| workload | frames | brainwire frames/s | brainwire MB/s | reference frames/s | floor frames/s | brainwire / reference | brainwire / floor |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
# 100,000 heartbeats: 20,000 took about 60 ms here, short enough that the floor's ratio
# moved between 1.6x and 2.5x from run to run.
for spec in heartbeat:100000 event_batch_500:300; do
  workload=${spec%%:*}
  count=${spec##*:}
  lines="$work/$workload.jsonl"
  target/release/bench_frames verify-lines "$workload" "$count" >"$lines"
  ours=$(seconds sh -c "target/release/brainwire-conformance verify <'$lines' >'$work/ours'")
  theirs=$(seconds sh -c "$python tests/reference/verify_lines.py <'$lines' >'$work/theirs'")
  floor=$(seconds sh -c "target/release/bench_frames floor-lines <'$lines' >'$work/floor'")
  for answers in "$work/ours" "$work/theirs" "$work/floor"; do
    ok=$(grep -c '"verdict": *"ok"' "$answers" || true)
    [ "$ok" -eq "$count" ] || { echo "$answers: $ok of $count verified" >&2; exit 1; }
  done
  wire_bytes=$($python -c 'import json, sys; print(sum(len(json.loads(l)["wire"].encode()) for l in open(sys.argv[1])))' "$lines")
  awk -v w="$workload" -v n="$count" -v o="$ours" -v t="$theirs" -v f="$floor" -v b="$wire_bytes" 'BEGIN {
    printf "| %s | %d | %.0f | %.1f | %.0f | %.0f | %.1fx | %.2fx |\n", w, n, n / o, b / o / 1e6, n / t, n / f, t / o, o / f
  }'
done
