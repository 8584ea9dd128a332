//! The modes that cover every protocol family: `decode`, `sniff`, `close`, `channel-id`,
//! `backoff`.

use std::time::Duration;

use brainwire_close::{dashboard, v1, v2, Backoff, FamilyCode, NamesCloseCode};
use brainwire_core::Limits;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use crate::parse;

#[derive(Deserialize)]
struct DecodeRequest {
    family: String,
    wire: String,
}

/// `{"type", "frame"}` with the frame as brainwire encodes it again, spliced in as exact
/// text so that integers beyond 64 bits and float spellings survive.
fn decoded(frame_type: &str, bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes)
        .ok()
        .and_then(|t| RawValue::from_string(t.to_owned()).ok())
    {
        Some(raw) => format!(
            r#"{{"type":{},"frame":{}}}"#,
            Value::from(frame_type),
            raw.get()
        ),
        None => json!({"error": "encode_failed", "close_code": null}).to_string(),
    }
}

fn refused<E: NamesCloseCode>(kind: &str, error: &E) -> String {
    json!({"error": kind, "close_code": error.close_code().code()}).to_string()
}

pub(crate) fn decode(line: &str) -> String {
    let request: DecodeRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e.to_string(),
    };
    let wire = request.wire.as_bytes();
    let limits = Limits::default();
    match request.family.as_str() {
        "v1" => match brainwire_v1::decode_agent(wire) {
            Ok(frame) => decoded(frame.frame_type(), &brainwire_v1::encode_agent(&frame)),
            Err(brainwire_v1::DecodeError::WrongDirection { .. }) => {
                match brainwire_v1::decode_brain(wire) {
                    Ok(frame) => decoded(frame.frame_type(), &brainwire_v1::encode_brain(&frame)),
                    Err(e) => refused(e.kind(), &e),
                }
            }
            Err(e) => refused(e.kind(), &e),
        },
        "v2" => match brainwire_v2::decode(wire) {
            Ok(frame) => decoded(frame.frame_type().as_str(), &brainwire_v2::encode(&frame)),
            Err(e) => refused(e.kind(), &e),
        },
        "auth" => match brainwire_auth::decode(wire) {
            Ok(message) => decoded(message.message_type(), &brainwire_auth::encode(&message)),
            Err(e) => refused(e.kind(), &e),
        },
        "run" => match brainwire_run::decode(wire) {
            Ok(message) => decoded(
                message.body.message_type(),
                &brainwire_run::encode(&message),
            ),
            Err(e) => refused(e.kind(), &e),
        },
        "channel" => match brainwire_channel::decode_client_with(wire, &limits) {
            Ok(message) => {
                let frame_type = match &message {
                    brainwire_channel::ClientMessage::Subscribe(_) => "subscribe",
                    _ => "unsubscribe",
                };
                decoded(frame_type, &brainwire_channel::encode_client(&message))
            }
            Err(brainwire_channel::DecodeError::Shape(
                brainwire_core::ShapeError::UnknownType { .. },
            )) => match brainwire_channel::decode_server_with(wire, &limits) {
                Ok(message) => {
                    let frame_type = match &message {
                        brainwire_channel::ServerMessage::Subscribed(_) => "subscribed".to_owned(),
                        brainwire_channel::ServerMessage::Unsubscribed(_) => {
                            "unsubscribed".to_owned()
                        }
                        brainwire_channel::ServerMessage::Error(_) => "error".to_owned(),
                        brainwire_channel::ServerMessage::Event(event) => {
                            event.event_type().to_owned()
                        }
                        _ => "unknown".to_owned(),
                    };
                    decoded(&frame_type, &brainwire_channel::encode_server(&message))
                }
                Err(e) => refused(e.kind(), &e),
            },
            Err(e) => refused(e.kind(), &e),
        },
        _ => json!({"error": "unknown_family", "close_code": null}).to_string(),
    }
}

#[derive(Deserialize)]
struct SniffRequest {
    wire: String,
}

pub(crate) fn sniff(line: &str) -> Value {
    let request: SniffRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    json!({"version": brainwire_v1::sniff(request.wire.as_bytes()).name()})
}

#[derive(Deserialize)]
struct CloseRequest {
    family: String,
    code: u16,
}

fn describe<C: FamilyCode>(code: C, name: &str) -> Value {
    json!({"name": name, "class": code.class().name()})
}

pub(crate) fn close(line: &str) -> Value {
    let request: CloseRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match request.family.as_str() {
        "v1" => {
            let code = v1::CloseCode::from(request.code);
            describe(code, code.name())
        }
        "v2" => {
            let code = v2::CloseCode::from(request.code);
            describe(code, code.name())
        }
        "dashboard" => {
            let code = dashboard::CloseCode::from(request.code);
            describe(code, code.name())
        }
        _ => json!({"error": "unknown_family"}),
    }
}

#[derive(Deserialize)]
struct ChannelIdRequest {
    channel_id: String,
}

pub(crate) fn channel_id(line: &str) -> Value {
    let request: ChannelIdRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    match request.channel_id.parse::<brainwire_channel::ChannelId>() {
        Ok(id) => json!({"kind": id.kind().as_str(), "id": id.id()}),
        Err(e) => json!({"error": e.kind()}),
    }
}

#[derive(Deserialize)]
struct BackoffRequest {
    initial_ms: u64,
    max_ms: u64,
    attempt: u32,
}

pub(crate) fn backoff(line: &str) -> Value {
    let request: BackoffRequest = match parse(line) {
        Ok(r) => r,
        Err(e) => return e,
    };
    if request.attempt == 0 {
        return json!({"error": "attempt_starts_at_1"});
    }
    let backoff = Backoff::new(
        Duration::from_millis(request.initial_ms),
        Duration::from_millis(request.max_ms),
    );
    let delay = backoff.delay_for(request.attempt);
    json!({"delay_ms": u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)})
}
