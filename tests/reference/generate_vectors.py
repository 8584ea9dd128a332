#!/usr/bin/env python3
"""Golden vectors for brainwire, produced by running the v2 reference itself.

    python -m venv .venv && .venv/bin/pip install -r tests/reference/requirements.txt
    .venv/bin/python tests/reference/generate_vectors.py tests/vectors

Writes three JSON-lines files; every expected value in them comes from z4j-core 1.13.0
(`canonical_json`, `FrameSigner`, `derive_project_secret`, `decode_agent_hmac_secret`) or
CPython 3.11's json module, never from brainwire:

- canonical.jsonl: {"wire", "canonical"} where the reference signs the document, or
  {"wire", "reference": "refuses" | "accepts", "brainwire_error"} where it cannot sign it
  or where brainwire deliberately refuses what Python accepts (documented differences);
- signed.jsonl: frames of every signed type signed by the reference's FrameSigner, with
  the secret and session binding and the canonical envelope it MACed;
- secrets.jsonl: derive_project_secret and decode_agent_hmac_secret results.

Documents and payloads come from a seeded generator (--seed, default 20261123); the
signed frames carry the reference's own clock and random nonces, so signed.jsonl differs
on each run while the other files do not.
"""

import argparse
import base64
import json
import math
import random
import struct
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from z4j_core.transport import frames as F
from z4j_core.transport import hmac as H
from z4j_core.transport.framing import FrameSigner


def canonical(value):
    return F.canonical_json(value).decode("utf-8")


# ---------------------------------------------------------------- canonical JSON

FIXED_WIRES = [
    # integers: exact, -0 is 0, beyond 64 bits
    "0", "-0", "-1", "18446744073709551616", "-9223372036854775809",
    "123456789012345678901234567890123456789",
    # floats: Python repr
    "0.0", "-0.0", "1.0", "1E2", "1e2", "1e+2", "1e-2", "0.1", "100000.0", "1e5", "1e15",
    "1e16", "1e17", "1e-4", "1e-5", "1e-7", "0.00001", "0.0001", "5e-324", "2.2250738585072014e-308",
    "1.7976931348623157e308", "1746428308.9996243", "4.567776956184722e-07", "123e-20",
    "9007199254740993.0", "0.30000000000000004", "1.5e300", "-2.5e-5", "12345678901234567890.0",
    "1.0000000000000002", "3.141592653589793", "2.5", "1e22", "1e21", "1e23",
    # strings: only " \\ and controls escaped, everything else raw
    '"plain"', '"\\u0000\\u0001\\u001f"', '"\\b\\f\\n\\r\\t"', '"\\"\\\\\\/"', '"\\u007f"',
    '"\\u0080\\u009f"', '"\\u2028\\u2029"', '"\\ufeff"', '"\\uffff\\ufffe"', '"\\ue000"',
    '"\\ud83d\\ude00"', '"😀é"', '"\\u00e9"', '"e\\u0301"', '"\\uD834\\uDD1E"',
    # keys: code point order, not UTF-16 order
    '{"b":1,"a":2}', '{"é":1,"z":2,"e":3}', '{"\\uffff":1,"😀":2}', '{"😀":1,"\\ue000":2,"a":3}',
    '{"":1," ":2,"\\u0000":3}', '{"aa":1,"a":2,"ab":3}',
    # containers and whitespace
    "[]", "{}", "[[],{},[[]]]", ' { "a" : [ 1 , 2 ] ,\n\t"b" : { } } ',
    '{"nested":{"z":[1,{"y":null,"x":true}],"a":false}}',
    "[" * 254 + "]" * 254,
    '{"d":' + "[" * 252 + "1" + "]" * 252 + "}",
]

# The reference cannot sign these (Python raises); brainwire refuses with the kind given.
REFUSED_BY_BOTH = [
    ("NaN", "non_finite_number"),
    ("[Infinity]", "non_finite_number"),
    ('{"x":-Infinity}', "non_finite_number"),
    ("1e400", "non_finite_number"),
    ("-1e400", "non_finite_number"),
    ('"\\ud800"', "lone_surrogate"),
    ('"\\udc00"', "lone_surrogate"),
    ('"\\ud800\\u0041"', "lone_surrogate"),
    ('{"\\udfff":1}', "lone_surrogate"),
    ("1" * 4301, "integer_too_long"),
    ("01", "malformed_json"),
    ("[1,]", "malformed_json"),
    ('{"a" 1}', "malformed_json"),
    ('"\\x"', "malformed_json"),
    ('"a\tb"', "malformed_json"),
    ("", "malformed_json"),
    ("[1] [2]", "malformed_json"),
]

# Python accepts these; brainwire refuses on purpose (DESIGN.md).
REFUSED_BY_BRAINWIRE_ONLY = [
    ('{"a":1,"a":2}', "duplicate_key"),
    ('{"x":{"k":1,"k":1}}', "duplicate_key"),
    ("\ufeff{}", "byte_order_mark"),
    ("[" * 300 + "]" * 300, "too_deep"),
]


def python_canonical(wire):
    """What the reference signs for this wire text, or None when it cannot."""
    try:
        value = json.loads(wire.encode("utf-8"))
        return canonical(value)
    except (ValueError, UnicodeEncodeError, RecursionError):
        return None


def random_float(rng):
    kind = rng.random()
    if kind < 0.4:
        bits = rng.getrandbits(64)
        value = struct.unpack("<d", struct.pack("<Q", bits))[0]
        return value if math.isfinite(value) else 0.5
    if kind < 0.7:
        return rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30)
    if kind < 0.9:
        return round(rng.uniform(0, 2e9), rng.randint(0, 7))
    return rng.choice([0.1, 1e16, 1e-7, 5e-324, -0.0, 1e15, 100000.0, 1e22])


ALPHABET = (
    [chr(c) for c in range(0x20)] + list('"\\/ azAZ09é') +
    ["\u2028", "\u2029", "\ufeff", "\uffff", "\ue000", "\u007f", "\u0085", "😀", "𝄞", "\u0301"]
)


def random_string(rng):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))


def random_value(rng, depth=0):
    roll = rng.random()
    if depth > 4 or roll < 0.5:
        leaf = rng.randint(0, 6)
        if leaf == 0:
            return None
        if leaf == 1:
            return rng.random() < 0.5
        if leaf == 2:
            return rng.randint(-(2**70), 2**70)
        if leaf == 3:
            return rng.randint(-1000, 1000)
        if leaf in (4, 5):
            return random_float(rng)
        return random_string(rng)
    if roll < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {random_string(rng): random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def respell(rng, wire):
    """The same document spelled differently: ASCII escapes, indentation."""
    value = json.loads(wire)
    return json.dumps(value, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, 1, "\t"]),
                      sort_keys=rng.random() < 0.3)


def canonical_vectors(rng, count):
    out = []
    for wire in FIXED_WIRES:
        expected = python_canonical(wire)
        assert expected is not None, wire
        out.append({"wire": wire, "canonical": expected})
    for wire, kind in REFUSED_BY_BOTH:
        assert python_canonical(wire) is None, wire
        out.append({"wire": wire, "reference": "refuses", "brainwire_error": kind})
    for wire, kind in REFUSED_BY_BRAINWIRE_ONLY:
        out.append({"wire": wire, "reference": "accepts", "brainwire_error": kind})
    for _ in range(count):
        wire = json.dumps(random_value(rng), ensure_ascii=False)
        if rng.random() < 0.5:
            wire = respell(rng, wire)
        out.append({"wire": wire, "canonical": python_canonical(wire)})
    return out


# ---------------------------------------------------------------- signed frames


def nasty_object(rng):
    return {
        "task_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "name": "app.tasks." + random_string(rng),
        "ts": random_float(rng),
        "big": rng.randint(2**64, 2**80),
        "neg_zero": -0.0,
        "args": [random_value(rng) for _ in range(3)],
        "kwargs": {random_string(rng): random_value(rng) for _ in range(2)},
        random_string(rng): random_string(rng),
    }


def signed_frames(rng):
    loss = F.TelemetryLossPayload(buffer_id="buf-1", runtime_id="rt-1", event_records=2**53 - 1,
                                  adapter_events={"celery": 3})
    yield F.EventBatchFrame(id="eb-1", payload=F.EventBatchPayload(
        events=[nasty_object(rng) for _ in range(rng.randint(1, 4))]))
    yield F.EventBatchFrame(id="eb-empty", payload=F.EventBatchPayload(events=[]))
    yield F.EventBatchAckFrame(id="eba-1", payload=F.EventBatchAckPayload(
        acked_id="eb-1", received=3, accepted=2, rejected=1))
    yield F.HeartbeatFrame(id="hb-1", payload=F.HeartbeatPayload())
    yield F.HeartbeatFrame(id="hb-2", payload=F.HeartbeatPayload(
        buffer_size=12, dropped_events=1, telemetry_loss=loss, adapter_health={"celery": "ok"},
        last_flush_at=datetime(2026, 11, 23, 10, 15, 6, 370359, tzinfo=timezone.utc)))
    yield F.CommandFrame(id="cmd-1", payload=F.CommandPayload(
        action="cancel_task", target={"task_id": "t-1"}, parameters=nasty_object(rng),
        issued_by=str(uuid.UUID(int=rng.getrandbits(128))), delivery_claim_token="claim-1"))
    yield F.CommandAckFrame(id="ack-1", payload=F.CommandAckPayload(delivery_claim_token="claim-1"))
    yield F.CommandAckFrame(id="ack-2")
    yield F.CommandResultFrame(id="res-1", payload=F.CommandResultPayload(
        status="success", result=nasty_object(rng), delivery_claim_token="claim-1"))
    yield F.CommandResultFrame(id="res-2", payload=F.CommandResultPayload(
        status="failed", error="Traceback (most recent call last):\n  boom\u2028é😀"))
    yield F.RegistryDeltaFrame(id="reg-1", payload=F.RegistryDeltaPayload(
        engine="celery", added=[nasty_object(rng)], removed=["app.tasks.old"], updated=[{}]))
    yield F.ErrorFrame(id="err-1", payload=F.ErrorPayload(code="bad", message="it \"broke\"\n", fatal=True))
    yield F.AgentStatusFrame(id="st-1", payload=F.AgentStatusPayload(
        telemetry_loss=loss, auth_failure_streak=2, current_session_age_seconds=12.5,
        buffer_oldest_age_seconds=1e-7, agent_version="1.13.0", protocol_version="2",
        engines=["celery"], last_successful_connect_at=datetime(2026, 11, 23, 10, 15, 6, tzinfo=timezone(timedelta(hours=2))),
        buffer_depth=7))
    yield F.AgentStatusFrame(id="st-2", payload=F.AgentStatusPayload(current_session_age_seconds=5))


def signed_vectors(rng, rounds):
    out = []
    for round_ in range(rounds):
        secret = rng.randbytes(32 + rng.randint(0, 32))
        binding = {
            "agent_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "project_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "session_id": "" if round_ == 0 else str(uuid.UUID(int=rng.getrandbits(128))),
        }
        signer = FrameSigner(secret=secret, **binding)
        for frame in signed_frames(rng):
            wire = signer.sign_and_serialize(frame)
            envelope = json.loads(wire)
            envelope.update(binding)
            out.append({
                "type": frame.type,
                "secret_b64": base64.urlsafe_b64encode(secret).decode(),
                **binding,
                "wire": wire.decode("utf-8"),
                "envelope_canonical": H.envelope_bytes(envelope).decode("utf-8"),
                "hmac": frame.hmac,
            })
    return out


# ---------------------------------------------------------------- secrets


def secret_vectors(rng):
    out = []
    for _ in range(8):
        master = rng.randbytes(32 + rng.randint(0, 32))
        project = uuid.UUID(int=rng.getrandbits(128))
        out.append({"op": "derive", "master_hex": master.hex(), "project_id": str(project),
                    "secret_hex": H.derive_project_secret(master, project).hex()})
    for _ in range(6):
        raw = rng.randbytes(32 + rng.randint(0, 16))
        encoded = base64.urlsafe_b64encode(raw).decode()
        for value in (encoded, encoded.rstrip("="), "  " + encoded + "\n"):
            out.append({"op": "decode", "value": value,
                        "secret_hex": H.decode_agent_hmac_secret(value).hex()})
    for value, kind in [("", "secret_empty"), ("   ", "secret_empty"), ("not base64!", "secret_not_base64"),
                        ("AAAAA", "secret_not_base64")]:
        try:
            H.decode_agent_hmac_secret(value)
            raise AssertionError(f"reference accepted {value!r}")
        except ValueError:
            out.append({"op": "decode", "value": value, "reference": "refuses", "brainwire_error": kind})
    # The reference decodes these; brainwire refuses them (documented).
    short = base64.urlsafe_b64encode(b"x" * 16).decode()
    out.append({"op": "decode", "value": short, "reference": "accepts",
                "reference_secret_hex": H.decode_agent_hmac_secret(short).hex(),
                "brainwire_error": "secret_too_short"})
    # The reference stops at the first padding and ignores the rest: 1 byte here.
    inner_pad = "AA==" + "A" * 44
    out.append({"op": "decode", "value": inner_pad, "reference": "accepts",
                "reference_secret_hex": H.decode_agent_hmac_secret(inner_pad).hex(),
                "brainwire_error": "secret_not_base64"})
    return out


def write(path, rows):
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path}: {len(rows)} vectors", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--canonical-count", type=int, default=3000)
    parser.add_argument("--signed-rounds", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    write(args.out_dir / "canonical.jsonl", canonical_vectors(rng, args.canonical_count))
    write(args.out_dir / "signed.jsonl", signed_vectors(rng, args.signed_rounds))
    write(args.out_dir / "secrets.jsonl", secret_vectors(rng))


if __name__ == "__main__":
    main()
