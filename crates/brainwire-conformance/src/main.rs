//! `brainwire-conformance MODE`: one JSON request per stdin line, one JSON answer per
//! stdout line, in order. Modes: `canonical`, `verify`, `sign`, `secret`, `decode`,
//! `sniff`, `close`, `channel-id`, `backoff`. The contract is in `docs/conformance.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod families;

use std::io::{self, BufRead, Write};
use std::process::ExitCode;

use brainwire_core::{canonicalize, Limits, Timestamp};
use brainwire_sign::{
    decode_agent_hmac_secret, derive_project_secret, FrameSigner, Secret, SessionBinding, Stamp,
};
use brainwire_v2::{decode, sign_stamped, FrameVerifier};
use serde::Deserialize;
use serde_json::{json, Value};

const USAGE: &str =
    "usage: brainwire-conformance canonical|verify|sign|secret|decode|sniff|close|channel-id|backoff < requests.jsonl";

fn main() -> ExitCode {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let value_mode: Option<fn(&str) -> Value> = match mode.as_str() {
        "canonical" => Some(canonical),
        "verify" => Some(verify),
        "sign" => Some(sign),
        "secret" => Some(secret),
        "sniff" => Some(families::sniff),
        "close" => Some(families::close),
        "channel-id" => Some(families::channel_id),
        "backoff" => Some(families::backoff),
        _ => None,
    };
    let handle: Box<dyn Fn(&str) -> String> = match (value_mode, mode.as_str()) {
        (Some(mode), _) => Box::new(move |line| mode(line).to_string()),
        // decode writes the re-encoded frame as exact text, so it builds its own line.
        (None, "decode") => Box::new(families::decode),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let stdin = io::stdin().lock();
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    for line in stdin.lines() {
        let answer = match line {
            Ok(line) => handle(&line),
            Err(_) => json!({"error": "not_utf8"}).to_string(),
        };
        if writeln!(stdout, "{answer}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// A request line that is not the JSON object the mode expects.
pub(crate) fn bad_request() -> Value {
    json!({"error": "bad_request"})
}

pub(crate) fn parse<'a, T: Deserialize<'a>>(line: &'a str) -> Result<T, Value> {
    serde_json::from_str(line).map_err(|_| bad_request())
}

#[derive(Deserialize)]
struct CanonicalRequest {
    wire: String,
}

fn canonical(line: &str) -> Value {
    let request: CanonicalRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match canonicalize(request.wire.as_bytes(), &Limits::default()) {
        Ok(bytes) => json!({"canonical": String::from_utf8_lossy(&bytes)}),
        Err(e) => json!({"error": e.kind()}),
    }
}

#[derive(Deserialize)]
struct Session {
    secret_b64: String,
    agent_id: String,
    project_id: String,
    session_id: String,
}

impl Session {
    fn open(self) -> Result<(Secret, SessionBinding), Value> {
        let secret =
            decode_agent_hmac_secret(&self.secret_b64).map_err(|e| json!({"error": e.kind()}))?;
        Ok((
            secret,
            SessionBinding::new(self.agent_id, self.project_id, self.session_id),
        ))
    }
}

#[derive(Deserialize)]
struct VerifyRequest {
    wire: String,
    #[serde(flatten)]
    session: Session,
}

fn verify(line: &str) -> Value {
    let request: VerifyRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let (secret, binding) = match request.session.open() {
        Ok(s) => s,
        Err(e) => return e,
    };
    match FrameVerifier::new(secret, binding).authenticate(request.wire.as_bytes()) {
        Ok(_) => json!({"verdict": "ok"}),
        Err(e) => json!({"verdict": e.kind()}),
    }
}

#[derive(Deserialize)]
struct SignRequest {
    /// Raw, so that integers beyond 64 bits reach the decoder intact.
    frame: Box<serde_json::value::RawValue>,
    #[serde(flatten)]
    session: Session,
    ts: String,
    nonce: String,
    seq: u64,
}

fn sign(line: &str) -> Value {
    let request: SignRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let Ok(ts) = Timestamp::parse(&request.ts) else {
        return json!({"error": "invalid_timestamp"});
    };
    let frame = match decode(request.frame.get().as_bytes()) {
        Ok(f) => f,
        Err(e) => return json!({"error": e.kind()}),
    };
    let (secret, binding) = match request.session.open() {
        Ok(s) => s,
        Err(e) => return e,
    };
    let signer = FrameSigner::new(secret, binding);
    let stamp = Stamp {
        ts,
        nonce: request.nonce,
        seq: request.seq,
    };
    match sign_stamped(&signer, &stamp, &frame.id, &frame.payload) {
        Ok(wire) => json!({"wire": String::from_utf8_lossy(&wire)}),
        Err(brainwire_v2::EncodeError::Unsigned { .. }) => json!({"error": "unsigned_frame"}),
        Err(brainwire_v2::EncodeError::Invalid(e)) => json!({"error": e.kind()}),
        Err(brainwire_v2::EncodeError::Sign(e)) => json!({"error": e.kind()}),
        Err(_) => json!({"error": "sign_failed"}),
    }
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum SecretRequest {
    Derive {
        master_hex: String,
        project_id: String,
    },
    Decode {
        value: String,
    },
}

fn secret(line: &str) -> Value {
    let request: SecretRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let result = match request {
        SecretRequest::Derive {
            master_hex,
            project_id,
        } => {
            let Ok(master) = hex::decode(master_hex) else {
                return json!({"error": "master_not_hex"});
            };
            let Ok(project) = uuid::Uuid::parse_str(&project_id) else {
                return json!({"error": "project_id_not_uuid"});
            };
            derive_project_secret(&master, project)
        }
        SecretRequest::Decode { value } => decode_agent_hmac_secret(&value),
    };
    match result {
        Ok(secret) => json!({"secret_hex": hex::encode(secret.expose())}),
        Err(e) => json!({"error": e.kind()}),
    }
}
