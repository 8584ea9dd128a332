//! Secrets: a configured `hmac_secret` that decodes has at least 32 bytes and survives
//! its own urlsafe base64; derivation is deterministic, refuses short masters, and gives
//! different projects different secrets.
#![no_main]

use brainwire_sign::{
    decode_agent_hmac_secret, derive_project_secret, SecretError, Uuid, MIN_SECRET_BYTES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(secret) = decode_agent_hmac_secret(text) {
            assert!(secret.expose().len() >= MIN_SECRET_BYTES);
            let again = decode_agent_hmac_secret(&secret.to_urlsafe_base64())
                .expect("its own encoding decodes");
            assert_eq!(again, secret);
        }
    }
    if data.len() < 32 {
        return;
    }
    let (ids, master) = data.split_at(32);
    let first = Uuid::from_bytes(ids[..16].try_into().unwrap());
    let second = Uuid::from_bytes(ids[16..].try_into().unwrap());
    match derive_project_secret(master, first) {
        Ok(secret) => {
            assert!(master.len() >= MIN_SECRET_BYTES);
            assert_eq!(secret.expose().len(), 32);
            assert_eq!(derive_project_secret(master, first).unwrap(), secret);
            let other = derive_project_secret(master, second).unwrap();
            assert_eq!(other == secret, first == second);
        }
        Err(SecretError::TooShort { len }) => {
            assert_eq!(len, master.len());
            assert!(len < MIN_SECRET_BYTES);
        }
        Err(other) => panic!("{other:?}"),
    }
});
