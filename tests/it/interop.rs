//! Differential interop with the reference (z4j-core 1.13.0) on random traffic.
//!
//! Three directions, `BRAINWIRE_INTEROP_FRAMES` cases each (default 10,000):
//! 1. the reference signs, brainwire verifies, and the payloads agree;
//! 2. brainwire signs, the reference verifies, and the payloads agree;
//! 3. canonical JSON of random wire texts agrees, or both refuse.
//!
//! The seed is printed (set `BRAINWIRE_INTEROP_SEED` to replay one). A disagreement is
//! shrunk and saved under `tests/vectors/regressions/`, and every saved case is replayed
//! first on each run.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use brainwire_core::{canonicalize, Limits, ShapeError, Timestamp};
use brainwire_sign::{FrameSigner, Secret, SessionBinding, Stamp};
use brainwire_v2::{decode, sign, sign_stamped, DecodeError, FrameVerifier, VerifyError};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::generate::{shrink, Gen, Json};
use crate::reference::reference_python;
use crate::tests_dir;

/// The reference as a long-running process.
struct Reference {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Reference {
    fn start() -> Self {
        let mut child = Command::new(reference_python())
            .arg(tests_dir().join("reference/interop_server.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the reference starts");
        let stdin = BufWriter::new(child.stdin.take().unwrap());
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Self {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends every request from a second thread while reading the answers (the server
    /// answers in order); writing first and reading after would deadlock once both pipes
    /// are full.
    fn call_many(&mut self, requests: &[Value]) -> Vec<Value> {
        let Self { stdin, stdout, .. } = self;
        std::thread::scope(|scope| {
            scope.spawn(|| {
                for request in requests {
                    writeln!(stdin, "{request}").unwrap();
                }
                stdin.flush().unwrap();
            });
            (0..requests.len())
                .map(|_| {
                    let mut line = String::new();
                    stdout.read_line(&mut line).unwrap();
                    serde_json::from_str(&line).expect("the reference answers JSON")
                })
                .collect()
        })
    }

    fn call(&mut self, request: Value) -> Value {
        self.call_many(&[request]).pop().unwrap()
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn session(n: u64) -> (Secret, SessionBinding) {
    let secret = Secret::new(format!("interop-secret-{n:020}-padding!!").into_bytes()).unwrap();
    (
        secret,
        SessionBinding::new(
            format!("agent-{n}"),
            format!("project-{n}"),
            format!("session-{n}"),
        ),
    )
}

fn session_json(secret: &Secret, binding: &SessionBinding) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    map.insert("secret_b64".into(), secret.to_urlsafe_base64().into());
    map.insert("agent_id".into(), binding.agent_id.clone().into());
    map.insert("project_id".into(), binding.project_id.clone().into());
    map.insert("session_id".into(), binding.session_id.clone().into());
    map
}

fn request(op: &str, key: &str, text: &str, secret: &Secret, binding: &SessionBinding) -> Value {
    let mut map = session_json(secret, binding);
    map.insert("op".into(), op.into());
    map.insert(key.into(), text.into());
    Value::Object(map)
}

fn canonical_text(bytes: &[u8]) -> String {
    String::from_utf8(
        canonicalize(bytes, &Limits::default())
            .expect("a payload brainwire wrote is canonicalizable"),
    )
    .unwrap()
}

/// Direction 3 for one wire text: `Ok` when both agree (or differ as documented).
fn check_canonical(reference: &mut Reference, wire: &str) -> Result<(), String> {
    let theirs = reference.call(json!({"op": "canonical", "wire": wire}));
    compare_canonical(wire, &theirs)
}

fn compare_canonical(wire: &str, theirs: &Value) -> Result<(), String> {
    let ours = canonicalize(wire.as_bytes(), &Limits::default());
    match (ours, theirs.get("canonical").and_then(Value::as_str)) {
        (Ok(ours), Some(theirs)) if ours == theirs.as_bytes() => Ok(()),
        (Err(_), None) => Ok(()),
        // Python keeps the last of duplicate keys (hiding whatever the others held);
        // brainwire refuses such documents (docs/interop.md).
        (Err(_), Some(_)) if theirs["duplicate_keys"] == true => Ok(()),
        (ours, theirs) => Err(format!(
            "ours {:?}, reference {theirs:?}",
            ours.map(|b| String::from_utf8_lossy(&b).into_owned())
        )),
    }
}

/// Saves a shrunk failing case and returns the message to fail with.
fn save_regression(direction: &str, seed: u64, input: &str, why: &str) -> String {
    let dir: PathBuf = tests_dir().join("vectors/regressions");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{direction}-{seed}.json"));
    let row = json!({"direction": direction, "seed": seed, "input": input, "why": why});
    std::fs::write(&path, serde_json::to_string_pretty(&row).unwrap()).unwrap();
    format!(
        "{direction} disagreement (seed {seed}), shrunk case saved to {}: {why}\ninput: {input}",
        path.display()
    )
}

fn seed() -> u64 {
    std::env::var("BRAINWIRE_INTEROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::thread_rng().gen())
}

fn cases() -> usize {
    std::env::var("BRAINWIRE_INTEROP_FRAMES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

#[test]
fn saved_regressions_still_agree() {
    let dir = tests_dir().join("vectors/regressions");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut reference = Reference::start();
    for entry in entries {
        let path = entry.unwrap().path();
        let row: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let input = row["input"].as_str().unwrap();
        let result = match row["direction"].as_str().unwrap() {
            "canonical" => check_canonical(&mut reference, input),
            "reference-signs" => check_reference_signs(&mut reference, input, 1 << 40),
            _ => check_brainwire_signs(&mut reference, input, 1 << 41),
        };
        assert!(result.is_ok(), "{}: {result:?}", path.display());
    }
}

#[test]
fn canonical_json_agrees_on_random_wire_texts() {
    let seed = seed();
    println!("canonical interop seed {seed}");
    let mut gen = Gen {
        rng: rand::rngs::StdRng::seed_from_u64(seed),
    };
    let mut reference = Reference::start();
    let docs: Vec<Json> = (0..cases())
        .map(|_| {
            let doc = gen.value(6);
            if gen.rng.gen_bool(0.05) {
                Json::Array(vec![doc, gen.poison()])
            } else {
                doc
            }
        })
        .collect();
    let texts: Vec<String> = docs
        .iter()
        .map(|d| {
            let ws = gen.whitespace();
            d.text(ws)
        })
        .collect();
    let requests: Vec<Value> = texts
        .iter()
        .map(|t| json!({"op": "canonical", "wire": t}))
        .collect();
    let answers = reference.call_many(&requests);
    let mut refused_both = 0;
    for ((doc, text), theirs) in docs.iter().zip(&texts).zip(&answers) {
        if theirs.get("refused").is_some() {
            refused_both += 1;
        }
        if let Err(why) = compare_canonical(text, theirs) {
            let small = shrink(doc.clone(), |d| {
                check_canonical(&mut reference, &d.text("")).is_err()
            });
            panic!(
                "{}",
                save_regression("canonical", seed, &small.text(""), &why)
            );
        }
    }
    println!(
        "{} wire texts agreed ({refused_both} refused by both)",
        texts.len()
    );
}

/// Direction 1 for one unsigned frame: the reference signs it, brainwire verifies it.
fn check_reference_signs(reference: &mut Reference, frame: &str, n: u64) -> Result<(), String> {
    let (secret, binding) = session(n);
    let theirs = reference.call(request("sign", "frame", frame, &secret, &binding));
    compare_reference_signed(frame, &theirs, &secret, &binding)
}

fn compare_reference_signed(
    frame: &str,
    theirs: &Value,
    secret: &Secret,
    binding: &SessionBinding,
) -> Result<(), String> {
    let ours = decode(frame.as_bytes());
    let Some(wire) = theirs.get("wire").and_then(Value::as_str) else {
        return match ours {
            Err(_) => Ok(()),
            Ok(_) => Err(format!(
                "the reference refused a frame brainwire decodes: {theirs}"
            )),
        };
    };
    match ours {
        // pydantic's JSON parser takes a float that overflows (`1e400`) as infinity and
        // its JSON dump writes it as `null`: the reference signs a value it changed.
        // brainwire refuses non-finite numbers (docs/interop.md).
        Err(DecodeError::Shape(ShapeError::Json(e))) if e.kind() == "non_finite_number" => {
            return if wire.contains("null") {
                Ok(())
            } else {
                Err(format!("overflow signed as {wire}"))
            };
        }
        Err(e) => {
            return Err(format!(
                "brainwire refused a frame the reference signs: {e:?}"
            ))
        }
        Ok(_) => {}
    }
    let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
    let verified = verifier
        .verify(wire.as_bytes(), Timestamp::now_utc())
        .map_err(|e| format!("verify: {e:?}"))?;
    let ours = canonical_text(&verified.frame.payload.to_json());
    let theirs = theirs["payload_canonical"].as_str().unwrap();
    if ours == theirs {
        Ok(())
    } else {
        Err(format!(
            "payloads differ:\n ours   {ours}\n theirs {theirs}"
        ))
    }
}

#[test]
fn frames_the_reference_signs_verify_in_brainwire() {
    let seed = seed();
    println!("reference-signs interop seed {seed}");
    let mut gen = Gen {
        rng: rand::rngs::StdRng::seed_from_u64(seed),
    };
    let mut reference = Reference::start();
    let (secret, binding) = session(seed);
    let frames: Vec<Json> = (0..cases()).map(|i| gen.frame(&format!("f-{i}"))).collect();
    let texts: Vec<String> = frames.iter().map(|f| f.text("")).collect();
    let requests: Vec<Value> = texts
        .iter()
        .map(|t| request("sign", "frame", t, &secret, &binding))
        .collect();
    let answers = reference.call_many(&requests);
    // One verifier for the whole session: seq and nonces are checked across frames.
    let mut verifier = FrameVerifier::new(secret.clone(), binding.clone());
    let mut signed = 0;
    for ((frame, text), theirs) in frames.iter().zip(&texts).zip(&answers) {
        let agreed = compare_reference_signed(text, theirs, &secret, &binding);
        if let Some(wire) = theirs.get("wire").and_then(Value::as_str) {
            signed += 1;
            if let Err(e) = verifier.verify(wire.as_bytes(), Timestamp::now_utc()) {
                panic!("in-session verify of {wire}: {e:?}");
            }
        }
        if let Err(why) = agreed {
            let small = shrink(frame.clone(), |f| {
                check_reference_signs(&mut reference, &f.text(""), 1 << 40).is_err()
            });
            panic!(
                "{}",
                save_regression("reference-signs", seed, &small.text(""), &why)
            );
        }
    }
    assert!(
        signed * 10 >= texts.len() * 9,
        "most generated frames are valid: {signed} of {}",
        texts.len()
    );
    println!("{signed} reference-signed frames verified, payloads equal");
}

/// Direction 2 for one unsigned frame: brainwire signs it, the reference verifies it.
fn check_brainwire_signs(reference: &mut Reference, frame: &str, n: u64) -> Result<(), String> {
    let (secret, binding) = session(n);
    let Ok(decoded) = decode(frame.as_bytes()) else {
        return Ok(());
    };
    let mut signer = FrameSigner::new(secret.clone(), binding.clone());
    let wire =
        sign(&mut signer, &decoded.id, &decoded.payload).map_err(|e| format!("sign: {e:?}"))?;
    let theirs = reference.call(request(
        "verify",
        "wire",
        std::str::from_utf8(&wire).unwrap(),
        &secret,
        &binding,
    ));
    compare_brainwire_signed(&decoded.payload, &theirs)
}

fn compare_brainwire_signed(payload: &brainwire_v2::Payload, theirs: &Value) -> Result<(), String> {
    if theirs["ok"] != true {
        return Err(format!("the reference refused: {}", theirs["error"]));
    }
    let ours = canonical_text(&payload.to_json());
    let theirs = theirs["payload_canonical"].as_str().unwrap();
    if ours == theirs {
        Ok(())
    } else {
        Err(format!(
            "payloads differ:\n ours   {ours}\n theirs {theirs}"
        ))
    }
}

#[test]
fn frames_brainwire_signs_verify_in_the_reference() {
    let seed = seed();
    println!("brainwire-signs interop seed {seed}");
    let mut gen = Gen {
        rng: rand::rngs::StdRng::seed_from_u64(seed),
    };
    let mut reference = Reference::start();
    let (secret, binding) = session(seed);
    let mut signer = FrameSigner::new(secret.clone(), binding.clone());
    let mut cases_run = Vec::new();
    let mut requests = Vec::new();
    for i in 0..cases() {
        let frame = gen.frame(&format!("f-{i}"));
        let Ok(decoded) = decode(frame.text("").as_bytes()) else {
            continue;
        };
        let wire = sign(&mut signer, &decoded.id, &decoded.payload).unwrap();
        requests.push(request(
            "verify",
            "wire",
            std::str::from_utf8(&wire).unwrap(),
            &secret,
            &binding,
        ));
        cases_run.push((frame, decoded.payload));
    }
    let answers = reference.call_many(&requests);
    for ((frame, payload), theirs) in cases_run.iter().zip(&answers) {
        if let Err(why) = compare_brainwire_signed(payload, theirs) {
            let small = shrink(frame.clone(), |f| {
                check_brainwire_signs(&mut reference, &f.text(""), 1 << 41).is_err()
            });
            panic!(
                "{}",
                save_regression("brainwire-signs", seed, &small.text(""), &why)
            );
        }
    }
    assert!(
        cases_run.len() * 10 >= cases() * 9,
        "most generated frames are valid: {}",
        cases_run.len()
    );
    println!(
        "{} brainwire-signed frames accepted by the reference, payloads equal",
        cases_run.len()
    );
}

#[test]
fn both_refuse_tampering_replay_and_staleness() {
    let seed = seed();
    println!("negative interop seed {seed}");
    let mut gen = Gen {
        rng: rand::rngs::StdRng::seed_from_u64(seed),
    };
    let mut reference = Reference::start();
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    for i in 0..200u64 {
        let frame = gen.frame(&format!("neg-{i}"));
        let Ok(decoded) = decode(frame.text("").as_bytes()) else {
            continue;
        };
        // A fresh session per case, so each refusal is about that case alone.
        let (secret, binding) = session(seed.wrapping_add(i * 8));
        let signer = FrameSigner::new(secret.clone(), binding.clone());
        let stamp = |ts: Timestamp| Stamp {
            ts,
            nonce: format!("n{i}"),
            seq: 1,
        };
        let good = sign_stamped(
            &signer,
            &stamp(Timestamp::now_utc()),
            &decoded.id,
            &decoded.payload,
        )
        .unwrap();
        let good = String::from_utf8(good.to_vec()).unwrap();
        let hmac_at = good.find("\"hmac\":\"").unwrap() + 8;
        let mut flipped = good.clone().into_bytes();
        flipped[hmac_at] = if flipped[hmac_at] == b'0' { b'1' } else { b'0' };
        let stale_ts =
            Timestamp::from_unix_micros((Timestamp::now_utc().unix_micros() - 120_000_000) as i64)
                .unwrap();
        let stale = sign_stamped(&signer, &stamp(stale_ts), &decoded.id, &decoded.payload).unwrap();
        let (other_secret, _) = session(seed.wrapping_add(i * 8 + 1));
        let other_binding = SessionBinding::new(
            binding.agent_id.clone(),
            binding.project_id.clone(),
            "another-session",
        );
        let cases: Vec<(String, &Secret, &SessionBinding, &str)> = vec![
            (
                good.replacen(
                    &format!("\"id\":\"neg-{i}\""),
                    &format!("\"id\":\"neg-{i}x\""),
                    1,
                ),
                &secret,
                &binding,
                "bad_signature",
            ),
            (
                String::from_utf8(flipped).unwrap(),
                &secret,
                &binding,
                "bad_signature",
            ),
            (good.clone(), &other_secret, &binding, "bad_signature"),
            (good.clone(), &secret, &other_binding, "bad_signature"),
            (
                String::from_utf8(stale.to_vec()).unwrap(),
                &secret,
                &binding,
                "stale_timestamp",
            ),
        ];
        for (wire, secret, binding, kind) in cases {
            let ours = FrameVerifier::new(secret.clone(), binding.clone())
                .verify(wire.as_bytes(), Timestamp::now_utc());
            let ours: Result<_, VerifyError> = ours;
            assert_eq!(
                ours.as_ref().map(|_| ()).map_err(VerifyError::kind),
                Err(kind),
                "{wire}"
            );
            // Every refusal happens before replay state changes, so cases may share a
            // session on the reference's side.
            requests.push(request("verify", "wire", &wire, secret, binding));
            expected.push(kind);
        }
    }
    let answers = reference.call_many(&requests);
    for ((answer, kind), request) in answers.iter().zip(&expected).zip(&requests) {
        assert_eq!(
            answer["ok"], false,
            "the reference accepted a frame brainwire refuses ({kind}): {request}"
        );
        assert!(
            answer["error"]
                .as_str()
                .unwrap()
                .starts_with("SignatureError"),
            "{answer}"
        );
    }
    assert!(requests.len() >= 500);
    println!(
        "{} tampered, cross-session, wrong-key and stale frames refused by both",
        requests.len()
    );
}
