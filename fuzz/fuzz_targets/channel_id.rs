//! Channel ids: whatever parses prints back to the same text and parses to the same id,
//! and agrees with `ChannelId::new` from its parts; what does not parse is refused by
//! `new` too.
#![no_main]

use brainwire_channel::ChannelId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<ChannelId>() {
        Ok(id) => {
            assert_eq!(id.to_string(), text, "an id prints as it was written");
            assert_eq!(text.parse::<ChannelId>().unwrap(), id);
            let rebuilt = ChannelId::new(id.kind(), id.id()).expect("its parts are valid");
            assert_eq!(rebuilt, id);
        }
        Err(_) => {
            if let Some((kind, rest)) = text.split_once(':') {
                if let Ok(kind) = format!("{kind}:x").parse::<ChannelId>().map(|c| c.kind()) {
                    assert!(ChannelId::new(kind, rest).is_err(), "{text:?}");
                }
            }
        }
    }
});
