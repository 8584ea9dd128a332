#!/usr/bin/env python3
"""Times the reference (z4j-core 1.13.0) on the benchmark workloads brainwire measures.

    cargo run -q -p brainwire-test-support --bin bench_frames > target/bench-frames.jsonl
    .venv/bin/python tests/reference/bench_reference.py target/bench-frames.jsonl

For each workload: FrameSigner.sign_and_serialize and FrameVerifier.parse_and_verify
(one verifier over frames signed with increasing seq, so replay checks pass), as the
median of five timed rounds. Prints a Markdown table of microseconds per frame.
"""

import json
import statistics
import sys
import time

from z4j_core.transport.frames import parse_frame
from z4j_core.transport.framing import FrameSigner, FrameVerifier

SECRET = b"benchmark-secret-0123456789abcdef"
BINDING = {
    "agent_id": "0b6f4c1e-5d0a-4c47-9a55-1f2c3d4e5f60",
    "project_id": "7d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5",
    "session_id": "c0ffee00-1234-4abc-9def-001122334455",
}


def per_frame(fn, count):
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        fn(count)
        rounds.append((time.perf_counter() - start) / count)
    return statistics.median(rounds) * 1e6


def main():
    print("| workload | frame bytes | reference sign µs | reference verify µs |")
    print("|---|---:|---:|---:|")
    for line in open(sys.argv[1], encoding="utf-8"):
        row = json.loads(line)
        frame = parse_frame(row["frame"].encode("utf-8"))
        count = max(20, 20_000 // max(1, len(row["frame"]) // 200))
        signer = FrameSigner(secret=SECRET, **BINDING)

        def sign(n):
            for _ in range(n):
                signer.sign_and_serialize(frame)

        sign_us = per_frame(sign, count)
        wires = [signer.sign_and_serialize(frame) for _ in range(count * 5)]
        verifier = FrameVerifier(secret=SECRET, **BINDING)
        position = [0]

        def verify(n):
            for wire in wires[position[0]:position[0] + n]:
                verifier.parse_and_verify(wire)
            position[0] += n

        verify_us = per_frame(verify, count)
        print(f"| {row['workload']} | {len(wires[0])} | {sign_us:.1f} | {verify_us:.1f} |")


if __name__ == "__main__":
    main()
