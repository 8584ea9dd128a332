//! Document 002: decode never panics and round-trips; a server driven by fuzzer-chosen
//! messages and clock steps never authenticates without a valid `auth.request`, never
//! holds more tracked messages than its limit, and closes with a code once it fails; a
//! client authenticates only on an `auth.success`.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use brainwire_auth::{
    decode, encode, AuthRequest, Client, Grant, Message, Server, SessionConfig, Token,
    TokenVerifier,
};
use brainwire_close::NamesCloseCode;
use libfuzzer_sys::fuzz_target;

struct OnlyGood;

impl TokenVerifier for OnlyGood {
    fn verify(&self, request: &AuthRequest) -> Result<Grant, String> {
        if request.token.expose() == "good" {
            Ok(Grant::default())
        } else {
            Err("no".into())
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(data) {
        assert_eq!(
            decode(&encode(&message)).expect("encoded messages decode"),
            message
        );
    }
    // Split the input into messages at 0xff bytes; a leading byte of each picks a clock step.
    let start = Instant::now();
    let mut now = start;
    let mut server = Server::accept(
        now,
        Arc::new(OnlyGood),
        Box::new(|| "c".to_owned()),
        SessionConfig::default(),
    );
    let mut authenticated_by_good_request = false;
    for chunk in data.split(|b| *b == 0xff) {
        let Some((&step, message)) = chunk.split_first() else {
            continue;
        };
        now += Duration::from_secs(u64::from(step % 64));
        server.handle_timeout(now);
        let was = server.is_authenticated();
        server.handle_message(now, message);
        if !was && server.is_authenticated() {
            let brainwire_auth::Message::AuthRequest(request) =
                decode(message).expect("it was accepted")
            else {
                panic!("authenticated by a message that is not auth.request");
            };
            assert_eq!(request.token.expose(), "good");
            authenticated_by_good_request = true;
        }
        while server.poll_transmit().is_some() {}
        while server.poll_event().is_some() {}
        if let Some(closing) = server.poll_close() {
            assert!(!server.is_authenticated());
            assert_eq!(closing.frame.code(), closing.error.close_code().code());
            assert!((1000..=4999).contains(&closing.frame.code()));
        }
    }
    if server.is_authenticated() {
        assert!(authenticated_by_good_request);
    }
    // The client side: it authenticates only on a decodable auth.success.
    let mut client = Client::new(
        start,
        AuthRequest::new(Token::new("good").expect("non-empty"), 1),
        SessionConfig::default(),
    );
    let mut now = start;
    for chunk in data.split(|b| *b == 0xff) {
        let Some((&step, message)) = chunk.split_first() else {
            continue;
        };
        now += Duration::from_secs(u64::from(step % 64));
        client.handle_timeout(now);
        let was = client.is_authenticated();
        client.handle_message(now, message);
        if !was && client.is_authenticated() {
            assert!(matches!(decode(message), Ok(Message::AuthSuccess(_))));
        }
        while client.poll_transmit().is_some() {}
        while client.poll_event().is_some() {}
    }
});
