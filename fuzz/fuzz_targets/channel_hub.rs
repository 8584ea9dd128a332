//! Channel messages and ids never panic and round-trip; a hub driven by fuzzer-chosen
//! client messages keeps every connection within its subscription limit, never lets a
//! user watch an org that is not its own, and keeps its two indexes in agreement.
#![no_main]

use brainwire_channel::{
    decode_client_with, decode_server_with, encode_client, encode_server, ChannelHub, ChannelId,
    ChannelKind, SubscriptionPolicy,
};
use brainwire_core::Limits;
use libfuzzer_sys::fuzz_target;

struct OwnOrg;

impl SubscriptionPolicy for OwnOrg {
    fn may_subscribe(&self, user: &str, channel: &ChannelId) -> bool {
        channel.kind() != ChannelKind::Org || channel.id() == user
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(id) = text.parse::<ChannelId>() {
            assert_eq!(
                id.to_string()
                    .parse::<ChannelId>()
                    .expect("displayed ids parse"),
                id
            );
        }
    }
    if let Ok(m) = decode_client_with(data, &limits) {
        assert_eq!(
            decode_client_with(&encode_client(&m), &limits).expect("round trip"),
            m
        );
    }
    if let Ok(m) = decode_server_with(data, &limits) {
        assert_eq!(
            decode_server_with(&encode_server(&m), &limits).expect("round trip"),
            m
        );
    }
    // Lines are client messages; the first byte of each picks one of four connections.
    let mut hub = ChannelHub::new(OwnOrg, 3);
    for (connection, user) in ["acme", "globex", "acme", "initech"]
        .into_iter()
        .enumerate()
    {
        hub.join(connection as u8, user).expect("room");
    }
    for line in data.split(|b| *b == b'\n') {
        let Some((&who, message)) = line.split_first() else {
            continue;
        };
        let connection = who % 5; // 4 is never joined
        let reply = hub.handle_message(&connection, message);
        assert_eq!(
            decode_server_with(&reply.bytes, &limits).expect("every reply decodes"),
            reply.message
        );
        if who % 7 == 6 {
            hub.leave(&connection);
        }
    }
    for connection in 0..5u8 {
        let channels: Vec<ChannelId> = hub.subscriptions(&connection).cloned().collect();
        assert!(channels.len() <= 3);
        for channel in channels {
            assert!(hub.subscribers(&channel) >= 1);
            if channel.kind() == ChannelKind::Org {
                let user = ["acme", "globex", "acme", "initech"][usize::from(connection)];
                assert_eq!(channel.id(), user);
            }
        }
    }
});
