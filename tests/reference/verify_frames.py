#!/usr/bin/env python3
"""Verify frames with the reference's own FrameVerifier (z4j-core 1.13.0).

Reads JSON lines {"wire", "secret_b64", "agent_id", "project_id", "session_id"} on stdin;
writes one JSON line per input: {"ok": true, "type", "payload_canonical"} with the
reference's canonical JSON of the payload it parsed, or {"ok": false, "error": "<class>:
<message>"}. Frames of one session share a verifier, so replay rules apply across lines.
"""

import json
import sys

from z4j_core.transport.frames import canonical_json
from z4j_core.transport.framing import FrameVerifier
from z4j_core.transport.hmac import decode_agent_hmac_secret


def main():
    verifiers = {}
    for line in sys.stdin:
        request = json.loads(line)
        key = (request["secret_b64"], request["agent_id"], request["project_id"], request["session_id"])
        verifier = verifiers.get(key)
        if verifier is None:
            verifier = FrameVerifier(secret=decode_agent_hmac_secret(request["secret_b64"]),
                                     agent_id=request["agent_id"], project_id=request["project_id"],
                                     session_id=request["session_id"])
            verifiers[key] = verifier
        try:
            frame = verifier.parse_and_verify(request["wire"].encode("utf-8"))
            payload = frame.payload.model_dump(mode="json")
            answer = {"ok": True, "type": frame.type, "payload_canonical": canonical_json(payload).decode("utf-8")}
        except Exception as exc:  # every refusal is an answer, not a crash
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
