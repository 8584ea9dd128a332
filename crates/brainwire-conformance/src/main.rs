//! `brainwire-conformance MODE`: one JSON request per stdin line, one JSON answer per
//! stdout line, in order. Modes: `canonical`, `verify`, `sign`, `secret`, `decode`,
//! `sniff`, `close`, `channel-id`, `backoff`. The contract is in `docs/conformance.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod families;

use std::borrow::Cow;
use std::io::{self, BufRead as _, Write};
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
        "sign" => Some(sign),
        "secret" => Some(secret),
        "sniff" => Some(families::sniff),
        "close" => Some(families::close),
        "channel-id" => Some(families::channel_id),
        "backoff" => Some(families::backoff),
        _ => None,
    };
    let mut handle: Box<dyn FnMut(&str) -> String> = match (value_mode, mode.as_str()) {
        (Some(mode), _) => Box::new(move |line| mode(line).to_string()),
        (None, "verify") => {
            let mut verifiers = Verifiers::default();
            Box::new(move |line| verifiers.verify(line))
        }
        // decode writes the re-encoded frame as exact text, so it builds its own line.
        (None, "decode") => Box::new(families::decode),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match answer_lines(&mut handle) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Answers each stdin line with `handle`. Answers are buffered and written whenever no
/// more input is waiting (before a read that could block, and at the end): a peer that
/// pipes a file gets large writes, one that sends a line and waits for its answer gets
/// it at once.
fn answer_lines(handle: &mut dyn FnMut(&str) -> String) -> io::Result<()> {
    let mut stdin = io::BufReader::with_capacity(64 * 1024, io::stdin().lock());
    let mut stdout = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut line = Vec::new();
    loop {
        if stdin.buffer().is_empty() {
            stdout.flush()?;
        }
        line.clear();
        if stdin.read_until(b'\n', &mut line)? == 0 {
            return stdout.flush();
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let answer = match std::str::from_utf8(text) {
            Ok(text) => handle(text),
            Err(_) => json!({"error": "not_utf8"}).to_string(),
        };
        writeln!(stdout, "{answer}")?;
    }
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

#[derive(Deserialize, Clone, PartialEq, Eq)]
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

/// A verify request, borrowed from its line where it has no escapes (the session's ids
/// and secret), and read without `#[serde(flatten)]`, which buffers every field: this is
/// the tool's per-line cost beside the verify.
#[derive(Deserialize)]
struct VerifyRequest<'a> {
    #[serde(borrow)]
    wire: Cow<'a, str>,
    #[serde(borrow)]
    secret_b64: Cow<'a, str>,
    #[serde(borrow)]
    agent_id: Cow<'a, str>,
    #[serde(borrow)]
    project_id: Cow<'a, str>,
    #[serde(borrow)]
    session_id: Cow<'a, str>,
}

impl VerifyRequest<'_> {
    /// Whether this request is of `session`.
    fn is_of(&self, session: &Session) -> bool {
        *self.secret_b64 == *session.secret_b64
            && *self.agent_id == *session.agent_id
            && *self.project_id == *session.project_id
            && *self.session_id == *session.session_id
    }

    fn session(&self) -> Session {
        Session {
            secret_b64: self.secret_b64.to_string(),
            agent_id: self.agent_id.to_string(),
            project_id: self.project_id.to_string(),
            session_id: self.session_id.to_string(),
        }
    }
}

/// The verifier of the last session seen: consecutive lines of one session (the usual
/// input) share it. `authenticate` keeps no replay state, so sharing changes no answer.
#[derive(Default)]
struct Verifiers {
    last: Option<(Session, FrameVerifier)>,
}

impl Verifiers {
    /// The answer line to one request: `{"verdict":"ok"}` or the refusal's kind.
    fn verify(&mut self, line: &str) -> String {
        let request: VerifyRequest<'_> = match parse(line) {
            Ok(r) => r,
            Err(e) => return e.to_string(),
        };
        let verifier = match &mut self.last {
            Some((session, verifier)) if request.is_of(session) => verifier,
            _ => {
                let session = request.session();
                let (secret, binding) = match session.clone().open() {
                    Ok(s) => s,
                    Err(e) => return e.to_string(),
                };
                let verifier = FrameVerifier::new(secret, binding);
                &mut self.last.insert((session, verifier)).1
            }
        };
        // Kinds are snake_case ASCII: nothing to escape.
        let verdict = match verifier.authenticate(request.wire.as_bytes()) {
            Ok(_) => "ok",
            Err(e) => e.kind(),
        };
        format!(r#"{{"verdict":"{verdict}"}}"#)
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
