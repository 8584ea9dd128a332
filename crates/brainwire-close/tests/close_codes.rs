//! Every listed code of every family, both conversions, class, name and `Display`.

use std::time::Duration;

use brainwire_close::{
    dashboard, v1, v2, Backoff, CloseClass, CloseFrame, NamesCloseCode, Reconnect, ReconnectPolicy,
    StandardCode, StopReason,
};

/// (code, name, display, class) as the seed documents give them.
const V1: &[(u16, &str, &str, CloseClass)] = &[
    (1000, "normal", "normal closure (1000)", CloseClass::Normal),
    (
        1006,
        "abnormal",
        "connection lost without a close frame (1006)",
        CloseClass::Transient,
    ),
    (
        1011,
        "internal_error",
        "internal server error (1011)",
        CloseClass::Transient,
    ),
    (
        4001,
        "protocol_version_mismatch",
        "protocol version mismatch (4001)",
        CloseClass::Configuration,
    ),
    (
        4002,
        "invalid_token",
        "invalid token (4002)",
        CloseClass::Configuration,
    ),
    (
        4003,
        "agent_revoked",
        "agent revoked (4003)",
        CloseClass::Configuration,
    ),
    (
        4004,
        "agent_name_conflict",
        "agent name conflict (4004)",
        CloseClass::Configuration,
    ),
    (
        4005,
        "malformed_frame",
        "malformed frame (4005)",
        CloseClass::Transient,
    ),
    (
        4006,
        "other",
        "unknown close code (4006)",
        CloseClass::Unknown,
    ),
];

const V2: &[(u16, &str, &str, CloseClass)] = &[
    (1000, "normal", "normal closure (1000)", CloseClass::Normal),
    (
        1006,
        "abnormal",
        "connection lost without a close frame (1006)",
        CloseClass::Transient,
    ),
    (
        1011,
        "internal_error",
        "internal server error (1011)",
        CloseClass::Transient,
    ),
    (
        4002,
        "replaced",
        "replaced by a newer connection of the same agent (4002)",
        CloseClass::Replaced,
    ),
    (
        4003,
        "revoked",
        "agent revoked or project archived (4003)",
        CloseClass::Configuration,
    ),
    (
        4400,
        "malformed_handshake",
        "malformed handshake or non-hello first frame (4400)",
        CloseClass::Configuration,
    ),
    (
        4401,
        "bearer_rejected",
        "bearer token rejected (4401)",
        CloseClass::Configuration,
    ),
    (
        4403,
        "forbidden",
        "source refused or signed frame failed MAC or replay checks (4403)",
        CloseClass::Configuration,
    ),
    (
        4408,
        "idle_timeout",
        "idle timeout reached without a heartbeat (4408)",
        CloseClass::Transient,
    ),
    (
        4426,
        "unsupported_protocol",
        "protocol version not supported (4426)",
        CloseClass::Configuration,
    ),
    (
        4427,
        "version_skew",
        "agent outside the supported version skew (4427)",
        CloseClass::Configuration,
    ),
    (
        4429,
        "connection_cap_exceeded",
        "per-agent connection cap exceeded (4429)",
        CloseClass::Configuration,
    ),
    (
        4001,
        "other",
        "unknown close code (4001)",
        CloseClass::Unknown,
    ),
];

const DASHBOARD: &[(u16, &str, &str, CloseClass)] = &[
    (
        4400,
        "bad_request",
        "bad request (4400)",
        CloseClass::Configuration,
    ),
    (
        4401,
        "no_session",
        "no session (4401)",
        CloseClass::Configuration,
    ),
    (
        4402,
        "origin_mismatch",
        "session-bound origin mismatch (4402)",
        CloseClass::Configuration,
    ),
    (
        4403,
        "insufficient_role",
        "insufficient role (4403)",
        CloseClass::Configuration,
    ),
    (4408, "idle", "idle timeout (4408)", CloseClass::Transient),
    (
        4426,
        "other",
        "unknown close code (4426)",
        CloseClass::Unknown,
    ),
];

macro_rules! check_family {
    ($table:expr, $enum:ty) => {
        for &(code, name, display, class) in $table {
            let parsed = <$enum>::from(code);
            assert_eq!(u16::from(parsed), code);
            assert_eq!(parsed.name(), name, "{code}");
            assert_eq!(parsed.to_string(), display, "{code}");
            assert_eq!(parsed.class(), class, "{code}");
            assert_eq!(parsed.can_reconnect(), class.can_reconnect(), "{code}");
        }
        // Every defined variant is in the table above, so none goes untested.
        for defined in <$enum>::DEFINED {
            assert!(
                $table.iter().any(|row| row.0 == defined.code()),
                "{defined:?} untested"
            );
        }
    };
}

#[test]
fn v1_codes() {
    check_family!(V1, v1::CloseCode);
}

#[test]
fn v2_codes() {
    check_family!(V2, v2::CloseCode);
}

#[test]
fn dashboard_codes() {
    check_family!(DASHBOARD, dashboard::CloseCode);
}

#[test]
fn standard_codes_cover_1000_to_1015() {
    for code in 1000..=1015u16 {
        let standard = StandardCode::try_from(code).unwrap();
        assert_eq!(standard.code(), code);
        assert_eq!(v1::CloseCode::from(code), v1::CloseCode::Standard(standard));
    }
    // `try_from` indexes the table: its rows must run 1000, 1001, ... without a gap.
    assert_eq!(StandardCode::ALL.len(), 16);
    for (i, standard) in StandardCode::ALL.iter().enumerate() {
        assert_eq!(usize::from(standard.code()), 1000 + i, "{standard:?}");
    }
    assert!(StandardCode::try_from(1016).is_err());
    assert!(StandardCode::try_from(999).is_err());
}

/// Exhaustive rather than sampled: all 65,536 values, every family.
#[test]
fn every_u16_round_trips() {
    for code in 0..=u16::MAX {
        assert_eq!(u16::from(v1::CloseCode::from(code)), code);
        assert_eq!(u16::from(v2::CloseCode::from(code)), code);
        assert_eq!(u16::from(dashboard::CloseCode::from(code)), code);
        if let Ok(standard) = StandardCode::try_from(code) {
            assert_eq!(u16::from(standard), code);
        }
    }
}

#[test]
fn backoff_without_jitter_doubles_to_the_cap() {
    let mut backoff = Backoff::new(Duration::from_millis(1000), Duration::from_millis(30_000));
    let mut never = || -> u64 { unreachable!("no jitter, no randomness") };
    let delays: Vec<u128> = (0..8)
        .map(|_| backoff.next_delay(&mut never).unwrap().as_millis())
        .collect();
    assert_eq!(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    backoff.reset();
    assert_eq!(backoff.next_delay(&mut never), Some(Duration::from_secs(1)));
    assert_eq!(backoff.delay_for(u32::MAX), Duration::from_secs(30));
}

#[test]
fn backoff_with_jitter_scales_the_delay_by_the_random_draw() {
    let draws = [0, u64::MAX, u64::MAX / 2, u64::MAX / 4];
    let mut it = draws.into_iter();
    let mut random = move || it.next().unwrap();
    let mut backoff = Backoff::default().with_full_jitter();
    let delays: Vec<u128> = (0..4)
        .map(|_| backoff.next_delay(&mut random).unwrap().as_millis())
        .collect();
    // Attempt n's cap is 1 s, 2 s, 4 s, 8 s; the draws are 0, 1, 1/2, 1/4 of it.
    assert_eq!(delays, [0, 2000, 1999, 1999]);
}

#[test]
fn attempt_limit_stops_the_policy() {
    let mut policy = ReconnectPolicy::new(Backoff::default().with_max_attempts(5));
    let mut retries = 0;
    loop {
        match policy.on_close(v1::CloseCode::MalformedFrame) {
            Reconnect::RetryAfter(_) => retries += 1,
            Reconnect::Stop(reason) => {
                assert_eq!(reason, StopReason::AttemptsExhausted { attempts: 5 });
                break;
            }
        }
    }
    assert_eq!(retries, 5);
    policy.on_connected();
    assert_eq!(
        policy.on_connection_lost(),
        Reconnect::RetryAfter(Duration::from_secs(1))
    );
}

#[test]
fn policy_follows_the_class() {
    let mut policy = ReconnectPolicy::new(Backoff::default());
    assert_eq!(
        policy.on_close(v2::CloseCode::Replaced),
        Reconnect::Stop(StopReason::Replaced { code: 4002 })
    );
    assert_eq!(
        policy.on_close(v1::CloseCode::from(1000)),
        Reconnect::Stop(StopReason::Normal { code: 1000 })
    );
    assert_eq!(
        policy.on_close(v2::CloseCode::UnsupportedProtocol),
        Reconnect::Stop(StopReason::Configuration { code: 4426 })
    );
    assert_eq!(
        policy.on_close(v2::CloseCode::from(4999)),
        Reconnect::RetryAfter(Duration::from_secs(1))
    );
}

#[test]
fn reason_is_cut_on_a_character_boundary() {
    assert_eq!(
        CloseFrame::new(1000u16, "a".repeat(200)).reason().len(),
        123
    );
    // 'é' is 2 bytes: 61 fit in 122 bytes, the 62nd would end at 124.
    assert_eq!(
        CloseFrame::new(1000u16, "é".repeat(100)).reason(),
        "é".repeat(61)
    );
    // '😀' is 4 bytes: 30 fit in 120.
    assert_eq!(
        CloseFrame::new(1000u16, "😀".repeat(40)).reason().len(),
        120
    );
    let short = CloseFrame::new(v2::CloseCode::Forbidden, "bad mac");
    assert_eq!((short.code(), short.reason()), (4403, "bad mac"));
}

#[derive(Debug)]
struct Stale;

impl std::error::Error for Stale {}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stale timestamp")
    }
}

impl NamesCloseCode for Stale {
    type Code = v2::CloseCode;
    fn close_code(&self) -> v2::CloseCode {
        v2::CloseCode::Forbidden
    }
}

#[test]
fn an_error_gives_its_close_frame() {
    assert_eq!(
        Stale.close_frame(),
        CloseFrame::new(4403u16, "stale timestamp")
    );
}
