//! Document 003's examples, round trips, the broadcaster and the task board.

use brainwire_close::NamesCloseCode;
use brainwire_core::{JsonValue, Timestamp};
use brainwire_run::*;
use proptest::prelude::*;

/// The messages of document 003, verbatim.
const EXAMPLES: &[&str] = &[
    r#"{"type":"connected","data":{"message":"Connected to Cecelia Brain"},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
    r#"{"type":"run_update","data":{"id":"task-123","status":"in_progress","progress":5,"task_id":"task-123","agent":"dev","started_at":"2026-02-06T01:30:00.000Z","completed_at":null,"error":null},"timestamp":"2026-02-06T01:30:15.000Z"}"#,
    r#"{"type":"run_complete","data":{"id":"task-123","status":"completed","progress":11,"task_id":"task-123","agent":"dev","started_at":"2026-02-06T01:30:00.000Z","completed_at":"2026-02-06T01:45:00.000Z","error":null},"timestamp":"2026-02-06T01:45:00.000Z"}"#,
    r#"{"type":"run_failed","data":{"id":"task-123","status":"failed","progress":7,"task_id":"task-123","agent":"dev","started_at":"2026-02-06T01:30:00.000Z","completed_at":null,"error":"Build failed: TypeScript compilation error"},"timestamp":"2026-02-06T01:35:00.000Z"}"#,
    r#"{"type":"echo","data":{"test":"Hello Brain"},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
];

#[test]
fn the_documents_examples_decode_and_encode_byte_for_byte() {
    for example in EXAMPLES {
        let message = decode(example.as_bytes()).unwrap();
        assert_eq!(std::str::from_utf8(&encode(&message)).unwrap(), *example);
    }
    let status =
        r#"{"success":true,"websocket":{"active":true,"connected_clients":2,"endpoint":"/ws"}}"#;
    let doc: StatusDocument = serde_json::from_str(status).unwrap();
    assert_eq!(doc, StatusDocument::new(true, 2, "/ws"));
    assert_eq!(serde_json::to_string(&doc).unwrap(), status);
}

#[test]
fn a_relayed_message_keeps_absent_members_absent_and_null_ones_null() {
    let cases = [
        // Every member of `data` is optional, `connected`'s `message` too.
        r#"{"type":"connected","data":{},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
        r#"{"type":"run_update","data":{"id":"t","progress":3},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
        r#"{"type":"run_update","data":{"id":"t","progress":null,"message":null},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
    ];
    for wire in cases {
        let message = decode(wire.as_bytes()).unwrap();
        assert_eq!(std::str::from_utf8(&encode(&message)).unwrap(), wire);
    }
    // What a server builds leaves unset members out: no `"progress": null`.
    let built = RunMessage::new(
        Body::for_status(RunData::new("t", RunStatus::Queued)),
        IsoMillis::new(Timestamp::parse("2026-02-06T01:30:00Z").unwrap()),
    );
    assert_eq!(
        &encode(&built)[..],
        br#"{"type":"run_update","data":{"id":"t","status":"queued"},"timestamp":"2026-02-06T01:30:00.000Z"}"#
    );
}

#[test]
fn bad_messages_name_their_error() {
    let cases: &[(&str, &str)] = &[
        (
            r#"{"type":"run_progress","data":{},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
            "unknown_type",
        ),
        (
            r#"{"type":"run_update","data":{"status":5},"timestamp":"2026-02-06T01:30:00.000Z"}"#,
            "invalid_message",
        ),
        (r#"{"type":"run_update","data":{}}"#, "invalid_message"),
        (
            r#"{"type":"run_update","data":{},"timestamp":"yesterday"}"#,
            "invalid_message",
        ),
        // `data` is an object (serde alone would read a struct from an array).
        (
            r#"{"type":"run_update","data":["t","queued"],"timestamp":"2026-02-06T01:30:00.000Z"}"#,
            "invalid_message",
        ),
        (
            r#"{"type":"connected","data":["hi"],"timestamp":"2026-02-06T01:30:00.000Z"}"#,
            "invalid_message",
        ),
        (r#"{"data":{}}"#, "missing_type"),
        ("[]", "not_object"),
    ];
    for (wire, kind) in cases {
        let err = decode(wire.as_bytes()).unwrap_err();
        assert_eq!(
            (err.kind(), err.close_code().code()),
            (*kind, 1002),
            "{wire}"
        );
    }
}

#[test]
fn unknown_statuses_are_kept() {
    let wire = br#"{"type":"run_update","data":{"id":"t","status":"paused"},"timestamp":"2026-02-06T01:30:00.000Z"}"#;
    let message = decode(wire).unwrap();
    assert_eq!(
        message.body.run_data().unwrap().status,
        Some(RunStatus::Other("paused".into()))
    );
}

fn fixed_clock() -> brainwire_core::WallClock {
    brainwire_core::WallClock::new(|| Timestamp::parse("2026-02-06T01:30:00.123456Z").unwrap())
}

#[test]
fn broadcast_serializes_once_for_any_number_of_clients() {
    let mut server = Broadcaster::new("Connected to Cecelia Brain", fixed_clock());
    for client in 0..500u32 {
        let greeting = server.join(client).unwrap();
        assert_eq!(&greeting[..], br#"{"type":"connected","data":{"message":"Connected to Cecelia Brain"},"timestamp":"2026-02-06T01:30:00.123Z"}"#);
    }
    let before = server.encodings();
    let fanout = server.publish(Body::RunUpdate(RunData::new("task-1", RunStatus::Queued)));
    assert_eq!(server.encodings(), before + 1);
    assert_eq!(fanout.recipients.len(), 500);
    assert!(server.leave(&7));
    assert!(!server.leave(&7));
    assert_eq!(server.status("/ws").websocket.connected_clients, 499);
    assert_eq!(
        server
            .publish(Body::RunComplete(RunData::new(
                "task-1",
                RunStatus::Completed
            )))
            .recipients
            .len(),
        499
    );
}

#[test]
fn a_message_encoded_on_one_node_reaches_the_clients_of_another_unchanged() {
    let mut node_a: Broadcaster<u64> = Broadcaster::new("hi", fixed_clock());
    let mut node_b = Broadcaster::new("hi", fixed_clock());
    node_b.join(1u64).unwrap();
    node_b.join(2).unwrap();
    let on_the_bus = node_a.encode(Body::RunUpdate(RunData::new("t-1", RunStatus::InProgress)));
    assert_eq!(node_a.encodings(), 1);
    let before = node_b.encodings();
    let fanout = node_b.fanout(on_the_bus.clone());
    assert_eq!(node_b.encodings(), before, "node B encoded nothing");
    assert_eq!(fanout.recipients, [1, 2]);
    assert_eq!(
        fanout.bytes.as_ptr(),
        on_the_bus.as_ptr(),
        "the same buffer, not a copy"
    );
    assert_eq!(
        decode(&fanout.bytes).unwrap().body,
        Body::RunUpdate(RunData::new("t-1", RunStatus::InProgress))
    );
}

#[test]
fn echo_returns_the_clients_json_unchanged_and_refuses_junk() {
    let mut server = Broadcaster::new("hi", fixed_clock());
    server.join("a").unwrap();
    let echo = server
        .handle_message(
            &"a",
            br#"{"test":"Hello Brain","n":1.50,"big":123456789012345678901234567890}"#,
        )
        .unwrap();
    let message = decode(&echo).unwrap();
    assert_eq!(
        message.body,
        Body::Echo(
            JsonValue::from_text(
                r#"{"test":"Hello Brain","n":1.50,"big":123456789012345678901234567890}"#
            )
            .unwrap()
        )
    );
    assert!(matches!(
        server.handle_message(&"a", b"not json"),
        Err(EchoError::Invalid(_))
    ));
    assert!(matches!(
        server.handle_message(&"b", b"{}"),
        Err(EchoError::UnknownClient)
    ));
    let too_big = server
        .handle_message(&"a", &vec![b' '; 70_000])
        .unwrap_err();
    assert!(matches!(too_big, EchoError::Invalid(_)));
    assert_eq!(
        (too_big.kind(), too_big.close_code().code()),
        ("too_large", 1009)
    );
    let junk = server.handle_message(&"a", b"not json").unwrap_err();
    assert_eq!(junk.close_code().code(), 1002);
    let stranger = server.handle_message(&"b", b"{}").unwrap_err();
    assert_eq!(
        (stranger.kind(), stranger.close_code().code()),
        ("unknown_client", 1011)
    );
    // The reused parse forgets the refused documents: the next echo is exact.
    let again = decode(&server.handle_message(&"a", b"[1]").unwrap()).unwrap();
    assert_eq!(again.body, Body::Echo(JsonValue::from_text("[1]").unwrap()));
}

#[test]
fn client_limit_is_enforced() {
    let mut server = Broadcaster::new("hi", fixed_clock()).max_clients(2);
    server.join(1).unwrap();
    server.join(2).unwrap();
    assert_eq!(server.join(3), Err(Full { connected: 2 }));
    // A full stream asks the client to come back later, with backoff.
    assert_eq!(Full { connected: 2 }.close_code().code(), 1013);
    assert!(
        server.join(2).is_ok(),
        "a client already connected may join again"
    );
}

#[test]
fn the_board_keeps_finished_tasks_finished() {
    let now = Timestamp::now_utc();
    let msg = |body| RunMessage::new(body, now);
    let mut board = TaskBoard::new(2);
    assert_eq!(
        board.apply(&msg(Body::RunUpdate(RunData::new(
            "a",
            RunStatus::InProgress
        )))),
        Applied::Updated
    );
    assert_eq!(
        board.apply(&msg(Body::RunFailed(RunData::new("a", RunStatus::Failed)))),
        Applied::Updated
    );
    assert_eq!(
        board.apply(&msg(Body::RunUpdate(RunData::new(
            "a",
            RunStatus::InProgress
        )))),
        Applied::LateUpdate
    );
    assert_eq!(board.get("a").unwrap().status, Some(RunStatus::Failed));
    assert_eq!(
        board.apply(&msg(Body::Connected(RunData::system_message("hi")))),
        Applied::NotARun
    );
    assert_eq!(
        board.apply(&msg(Body::RunUpdate(RunData::default()))),
        Applied::NotARun
    );
    board.apply(&msg(Body::RunUpdate(RunData::new("b", RunStatus::Queued))));
    assert_eq!(
        board.apply(&msg(Body::RunUpdate(RunData::new("c", RunStatus::Queued)))),
        Applied::Full
    );
    assert_eq!(board.len(), 2);
}

fn run_data() -> impl Strategy<Value = RunData> {
    (
        prop::option::of("\\PC{0,12}"),
        prop::option::of(prop::sample::select(vec![
            "queued",
            "in_progress",
            "completed",
            "failed",
            "paused",
        ])),
        prop::option::of(any::<u32>()),
        prop::option::of(0i64..4_000_000_000_000),
        prop::option::of("\\PC{0,30}"),
        prop::option::of("\\PC{0,10}"),
    )
        .prop_map(|(id, status, progress, started_ms, error, message)| {
            let mut d = RunData::default();
            d.id = id.clone();
            d.task_id = id;
            d.status = status.map(RunStatus::from);
            d.progress = progress.map(serde_json::Number::from);
            d.started_at = started_ms
                .map(|ms| IsoMillis::new(Timestamp::from_unix_micros(ms * 1000).unwrap()));
            d.error = error;
            d.message = message;
            d
        })
}

fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        run_data().prop_map(Body::Connected),
        run_data().prop_map(Body::RunUpdate),
        run_data().prop_map(Body::RunComplete),
        run_data().prop_map(Body::RunFailed),
        prop::sample::select(vec![
            r#"{"test":"Hello Brain"}"#,
            "[1,2.5,null]",
            "\"text\"",
            "123456789012345678901234567890",
            "{}"
        ])
        .prop_map(|t| Body::Echo(JsonValue::from_text(t).unwrap())),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(body in body(), ms in 0i64..4_000_000_000_000) {
        let message = RunMessage::new(body, Timestamp::from_unix_micros(ms * 1000).unwrap());
        prop_assert_eq!(decode(&encode(&message)).unwrap(), message);
    }
}

#[test]
fn the_message_type_follows_the_status() {
    let body = |status| Body::for_status(RunData::new("t", status));
    assert_eq!(body(RunStatus::Completed).message_type(), "run_complete");
    assert_eq!(body(RunStatus::Failed).message_type(), "run_failed");
    assert_eq!(body(RunStatus::InProgress).message_type(), "run_update");
    assert_eq!(body(RunStatus::Queued).message_type(), "run_update");
    assert_eq!(
        body(RunStatus::Other("paused".into())).message_type(),
        "run_update"
    );
    let mut unknown = RunData::new("t", RunStatus::Queued);
    unknown.status = None;
    assert_eq!(Body::for_status(unknown).message_type(), "run_update");
}
