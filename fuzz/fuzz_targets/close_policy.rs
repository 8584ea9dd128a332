//! Close codes and the reconnect policy: every family's `From<u16>` is total and gives
//! the code back; a stop is final for its class; retries wait within the backoff's bounds
//! and end at its attempt limit; a connection resets the count.
#![no_main]

use std::time::Duration;

use brainwire_close::{
    dashboard, v1, v2, Backoff, CloseClass, FamilyCode, Reconnect, ReconnectPolicy, StandardCode,
    StopReason,
};
use libfuzzer_sys::fuzz_target;

const MAX_ATTEMPTS: u32 = 5;

fn check<C: FamilyCode>(code: C, raw: u16) {
    assert_eq!(code.code(), raw, "From<u16> keeps the number");
}

fuzz_target!(|data: &[u8]| {
    let mut random = 0u64;
    let mut policy = ReconnectPolicy::with_random(
        Backoff::default()
            .with_full_jitter()
            .with_max_attempts(MAX_ATTEMPTS),
        move || {
            random = random
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            random
        },
    );
    let mut retries_since_connect = 0u32;
    for chunk in data.chunks(3) {
        let [op, high, low] = *chunk else { return };
        let raw = u16::from_be_bytes([high, low]);
        let (decision, class) = match op % 6 {
            0 => {
                policy.on_connected();
                retries_since_connect = 0;
                continue;
            }
            1 => (policy.on_connection_lost(), CloseClass::Transient),
            2 => {
                let code = v2::CloseCode::from(raw);
                check(code, raw);
                (policy.on_close(code), code.class())
            }
            3 => {
                let code = v1::CloseCode::from(raw);
                check(code, raw);
                (policy.on_close(code), code.class())
            }
            4 => {
                let code = dashboard::CloseCode::from(raw);
                check(code, raw);
                (policy.on_close(code), code.class())
            }
            _ => match StandardCode::try_from(raw) {
                Ok(code) => {
                    check(code, raw);
                    (policy.on_close(code), code.class())
                }
                Err(_) => continue,
            },
        };
        match (class, decision) {
            (CloseClass::Normal, Reconnect::Stop(StopReason::Normal { code })) => {
                assert_eq!(code, raw)
            }
            (CloseClass::Configuration, Reconnect::Stop(StopReason::Configuration { code })) => {
                assert_eq!(code, raw)
            }
            (CloseClass::Replaced, Reconnect::Stop(StopReason::Replaced { code })) => {
                assert_eq!(code, raw)
            }
            (CloseClass::Transient | CloseClass::Unknown, Reconnect::RetryAfter(delay)) => {
                retries_since_connect += 1;
                assert!(retries_since_connect <= MAX_ATTEMPTS);
                assert!(delay <= Duration::from_secs(30), "{delay:?}");
            }
            (
                CloseClass::Transient | CloseClass::Unknown,
                Reconnect::Stop(StopReason::AttemptsExhausted { attempts }),
            ) => {
                assert_eq!(attempts, MAX_ATTEMPTS);
                assert_eq!(retries_since_connect, MAX_ATTEMPTS);
            }
            (class, decision) => panic!("{class:?} decided {decision:?}"),
        }
    }
});
