#!/usr/bin/env python3
"""The reference (z4j-core 1.13.0) as a JSON-lines service for the differential tests.

One request per stdin line, one answer per stdout line, in order:

- {"op": "canonical", "wire"}: what the reference signs for this wire text:
  {"canonical": text, "duplicate_keys": bool} or {"refused": "<exception class>"}.
  duplicate_keys says whether Python had to drop members (it keeps the last of a key).
- {"op": "sign", "frame", "secret_b64", "agent_id", "project_id", "session_id"}: parse the
  unsigned frame text with the reference's models and sign it with the reference's
  FrameSigner (one per session, so seq increases): {"wire", "payload_canonical"} or
  {"refused": "<exception class>: <message>"}.
- {"op": "verify", "wire", "secret_b64", "agent_id", "project_id", "session_id"}: the
  reference's FrameVerifier (one per session, so replay state persists):
  {"ok": true, "payload_canonical"} or {"ok": false, "error": "<class>: <message>"}.

payload_canonical is canonical_json of the payload as the reference's model holds it.
"""

import json
import sys

from z4j_core.transport.frames import canonical_json, parse_frame
from z4j_core.transport.framing import FrameSigner, FrameVerifier
from z4j_core.transport.hmac import decode_agent_hmac_secret


def session_key(request):
    return (request["secret_b64"], request["agent_id"], request["project_id"], request["session_id"])


def session_args(request):
    return {
        "secret": decode_agent_hmac_secret(request["secret_b64"]),
        "agent_id": request["agent_id"],
        "project_id": request["project_id"],
        "session_id": request["session_id"],
    }


def payload_canonical(frame):
    return canonical_json(frame.payload.model_dump(mode="json")).decode("utf-8")


def main():
    signers, verifiers = {}, {}
    for line in sys.stdin:
        request = json.loads(line)
        op = request["op"]
        try:
            if op == "canonical":
                duplicates = []

                def pairs(members):
                    if len({k for k, _ in members}) != len(members):
                        duplicates.append(True)
                    return dict(members)

                value = json.loads(request["wire"].encode("utf-8"), object_pairs_hook=pairs)
                answer = {"canonical": canonical_json(value).decode("utf-8"), "duplicate_keys": bool(duplicates)}
            elif op == "sign":
                key = session_key(request)
                signer = signers.get(key) or signers.setdefault(key, FrameSigner(**session_args(request)))
                frame = parse_frame(request["frame"].encode("utf-8"))
                wire = signer.sign_and_serialize(frame)
                answer = {"wire": wire.decode("utf-8"), "payload_canonical": payload_canonical(frame)}
            elif op == "verify":
                key = session_key(request)
                verifier = verifiers.get(key) or verifiers.setdefault(key, FrameVerifier(**session_args(request)))
                frame = verifier.parse_and_verify(request["wire"].encode("utf-8"))
                answer = {"ok": True, "payload_canonical": payload_canonical(frame)}
            else:
                answer = {"refused": f"unknown op {op!r}"}
        except Exception as exc:  # a refusal is an answer; the differential test compares them
            text = f"{type(exc).__name__}: {exc}"[:300]
            answer = {"ok": False, "error": text} if op == "verify" else {"refused": text}
        sys.stdout.write(json.dumps(answer, ensure_ascii=False) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
