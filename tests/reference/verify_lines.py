#!/usr/bin/env python3
"""The reference (z4j-core 1.13.0) answering `brainwire-conformance verify` requests.

One request per stdin line ({"wire", "secret_b64", "agent_id", "project_id",
"session_id"}), one answer per stdout line: {"verdict": "ok"} or {"verdict": "<class>"}.
Like the conformance binary, each line gets a fresh verifier. `scripts/throughput.sh`
times both on the same lines.
"""

import json
import sys

from z4j_core.transport.framing import FrameVerifier
from z4j_core.transport.hmac import decode_agent_hmac_secret


def main():
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        verifier = FrameVerifier(
            secret=decode_agent_hmac_secret(request["secret_b64"]),
            agent_id=request["agent_id"],
            project_id=request["project_id"],
            session_id=request["session_id"],
        )
        try:
            verifier.parse_and_verify(request["wire"].encode("utf-8"))
            verdict = "ok"
        except Exception as exc:  # a refusal is an answer
            verdict = type(exc).__name__
        out.write(json.dumps({"verdict": verdict}) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
