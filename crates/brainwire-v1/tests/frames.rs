//! Every v1 frame: decode of document-shaped examples, round trips, bad input, sniffing.

use brainwire_close::NamesCloseCode;
use brainwire_core::{JsonObject, JsonValue, Timestamp};
use brainwire_v1::*;
use proptest::prelude::*;

fn ts() -> Timestamp {
    Timestamp::parse("2026-02-06T01:30:00.000Z").unwrap()
}

#[test]
fn document_shaped_agent_frames_decode() {
    let hello = br#"{"type":"hello","protocol":"v1","agent_name":"web-1","framework":"django",
        "framework_version":"5.0","engines":["celery"],"schedulers":["celerybeat"],
        "capabilities":{"celery":{"retry":true},"celerybeat":{"pause":true}},
        "metadata":{"hostname":"h1","pid":4242,"python":"3.11","big":123456789012345678901234567890}}"#;
    let AgentFrame::Hello(h) = decode_agent(hello).unwrap() else {
        panic!()
    };
    assert_eq!(h.framework, Framework::Django);
    assert_eq!((h.metadata.hostname.as_str(), h.metadata.pid), ("h1", 4242));
    // Extra metadata is kept exactly, big integers included, and written back.
    assert_eq!(
        h.metadata.extra["big"].as_str(),
        "123456789012345678901234567890"
    );
    let again = encode_agent(&AgentFrame::Hello(h.clone()));
    assert!(std::str::from_utf8(&again)
        .unwrap()
        .contains(r#""big":123456789012345678901234567890"#));
    assert_eq!(decode_agent(&again).unwrap(), AgentFrame::Hello(h));

    let batch = br#"{"type":"event_batch","seq":3,"events":[{"event_type":"task_failed","task_id":"t",
        "engine":"celery","ts":"2026-02-06T01:30:00.000Z","name":"n","args_redacted":[1,"x",null],
        "kwargs_redacted":{"k":"***"},"queue":"default","routing_key":"rk",
        "error":{"exc_type":"ValueError","exc_msg":"bad","traceback_redacted":"Traceback..."},
        "group_id":"g","parent_id":"p","retry_of":"r"},
        {"event_type":"task_custom","task_id":"u","engine":"rq","ts":"2026-02-06T01:30:00Z","name":"m","args_redacted":[],"kwargs_redacted":{}}]}"#;
    let AgentFrame::EventBatch(b) = decode_agent(batch).unwrap() else {
        panic!()
    };
    assert_eq!(b.seq, 3);
    assert_eq!(b.events[0].event_type, TaskEventType::Failed);
    assert_eq!(b.events[0].error.as_ref().unwrap().exc_type, "ValueError");
    assert_eq!(
        b.events[1].event_type,
        TaskEventType::Other("task_custom".into())
    );

    let update = br#"{"type":"schedule_update","scheduler":"beat","added":[{"id":"s1","cron":"* * * * *","enabled":true}],"removed":["s0"]}"#;
    let AgentFrame::ScheduleUpdate(u) = decode_agent(update).unwrap() else {
        panic!()
    };
    let added = &u.added.as_ref().unwrap()[0];
    assert_eq!(
        (added.id.as_str(), added.fields["cron"].as_str()),
        ("s1", r#""* * * * *""#)
    );
    assert_eq!(u.modified, None);
    assert_eq!(u.removed.as_deref(), Some(&["s0".to_owned()][..]));

    let result = br#"{"type":"command_result","cmd_id":"c-1","ok":false,"error":{"code":"E","message":"m"}}"#;
    assert!(
        matches!(decode_agent(result).unwrap(), AgentFrame::CommandResult(r) if !r.ok && r.result.is_none())
    );
    let heartbeat = br#"{"type":"heartbeat","ts":"2026-02-06T01:30:00.000Z"}"#;
    assert_eq!(
        decode_agent(heartbeat).unwrap(),
        AgentFrame::Heartbeat(Heartbeat::new(ts()))
    );
}

#[test]
fn document_shaped_brain_frames_decode() {
    assert_eq!(
        decode_brain(br#"{"type":"ack","seq":3}"#).unwrap(),
        BrainFrame::Ack(Ack::new(3))
    );
    let command =
        br#"{"type":"command","cmd_id":"3f2a","cmd":"schedule_pause","args":{"id":"s1"}}"#;
    let BrainFrame::Command(c) = decode_brain(command).unwrap() else {
        panic!()
    };
    assert_eq!(c.cmd, CommandVerb::SchedulePause);
    let unknown = br#"{"type":"command","cmd_id":"3f2a","cmd":"reboot_universe","args":{}}"#;
    let BrainFrame::Command(c) = decode_brain(unknown).unwrap() else {
        panic!()
    };
    assert_eq!(c.cmd, CommandVerb::Other("reboot_universe".into()));
    assert_eq!(c.cmd.as_str(), "reboot_universe");
    let error = br#"{"type":"error","code":"bad_frame","message":"nope"}"#;
    assert_eq!(
        decode_brain(error).unwrap(),
        BrainFrame::Error(ErrorFrame::new("bad_frame", "nope"))
    );
}

#[test]
fn all_eleven_verbs_are_known() {
    for verb in [
        "retry_task",
        "cancel_task",
        "bulk_retry",
        "purge_queue",
        "schedule_create",
        "schedule_update",
        "schedule_delete",
        "schedule_pause",
        "schedule_resume",
        "restart_agent",
        "query_state",
    ] {
        let parsed = CommandVerb::from(verb);
        assert!(!matches!(parsed, CommandVerb::Other(_)), "{verb}");
        assert_eq!(parsed.as_str(), verb);
    }
}

#[test]
fn bad_input_names_its_error_and_close_code() {
    let events = vec![r#"{"event_type":"task_sent","task_id":"t","engine":"e","ts":"2026-02-06T01:30:00Z","name":"n","args_redacted":[],"kwargs_redacted":{}}"#; 5001].join(",");
    let oversize = format!(r#"{{"type":"event_batch","seq":1,"events":[{events}]}}"#);
    let long_name = format!(
        r#"{{"type":"command_result","cmd_id":"{}","ok":true}}"#,
        "c".repeat(1025)
    );
    let cases: Vec<(&[u8], &str, u16)> = vec![
        (b"{", "malformed_json", 4005),
        (b"[1]", "not_object", 4005),
        (br#"{"seq":1}"#, "missing_type", 4005),
        (br#"{"type":"telepathy"}"#, "unknown_type", 4005),
        (br#"{"type":"ack","seq":1}"#, "wrong_direction", 4005),
        (br#"{"type":"event_batch","seq":-1,"events":[]}"#, "invalid_frame", 4005),
        (br#"{"type":"event_batch","seq":"1","events":[]}"#, "invalid_frame", 4005),
        (br#"{"type":"event_batch","events":[]}"#, "invalid_frame", 4005),
        (br#"{"type":"heartbeat","ts":"2026-02-06T01:30:00"}"#, "invalid_frame", 4005),
        (br#"{"type":"command_result","cmd_id":"c","ok":"yes"}"#, "invalid_frame", 4005),
        // `error` is `{code, message}`: not the same fields as an array.
        (br#"{"type":"command_result","cmd_id":"c","ok":false,"error":["E","m"]}"#, "invalid_frame", 4005),
        (br#"{"type":"hello","protocol":"v1","agent_name":"a","framework":"bare","framework_version":"1","engines":[],"schedulers":[],"capabilities":{},"metadata":{"pid":1}}"#, "invalid_frame", 4005),
        (br#"{"type":"hello","protocol":"v2","agent_name":"a","framework":"bare","framework_version":"1","engines":[],"schedulers":[],"capabilities":{},"metadata":{"hostname":"h","pid":1}}"#, "protocol_mismatch", 4001),
        (br#"{"type":"event_batch","type":"event_batch","seq":1,"events":[]}"#, "duplicate_key", 4005),
        (oversize.as_bytes(), "too_long", 4005),
        (long_name.as_bytes(), "too_long", 4005),
    ];
    for (wire, kind, code) in cases {
        let err = decode_agent(wire).unwrap_err();
        assert_eq!(
            (err.kind(), err.close_code().code()),
            (kind, code),
            "{}",
            String::from_utf8_lossy(&wire[..wire.len().min(80)])
        );
    }
    let err = decode_brain(br#"{"type":"hello"}"#).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::WrongDirection {
            frame_type: "hello"
        }
    ));
    let err = decode_brain(br#"{"type":"command","cmd_id":"c","cmd":"cancel_task","args":[]}"#)
        .unwrap_err();
    assert_eq!(err.kind(), "invalid_frame");
}

#[test]
fn sniffing_tells_v1_v2_and_junk_apart() {
    assert_eq!(
        sniff(br#"{"type":"hello","protocol":"v1","agent_name":"a"}"#),
        ProtocolVersion::V1
    );
    assert_eq!(
        sniff(br#"{"protocol":"v1","type":"hello","metadata":{"deep":[[[[1]]]]}}"#),
        ProtocolVersion::V1
    );
    assert_eq!(
        sniff(br#"{"v":2,"id":"h","type":"hello","payload":{"protocol_version":"2"}}"#),
        ProtocolVersion::V2
    );
    assert_eq!(
        sniff(br#"{"v":2,"type":"event_batch"}"#),
        ProtocolVersion::V2
    );
    for junk in [
        &b""[..],
        b"null",
        b"[]",
        br#"{"type":"hello","protocol":"v3"}"#,
        br#"{"v":3}"#,
        br#"{"v":"2"}"#,
        br#"{"type":"event_batch","seq":1}"#,
        b"\xff\xfe",
        b"GET / HTTP/1.1",
    ] {
        assert_eq!(
            sniff(junk),
            ProtocolVersion::Unknown,
            "{}",
            String::from_utf8_lossy(junk)
        );
    }
}

fn name() -> impl Strategy<Value = String> {
    "\\PC{0,20}"
}

fn json_value() -> impl Strategy<Value = JsonValue> {
    prop_oneof![
        any::<i64>().prop_map(|i| JsonValue::from_text(i.to_string()).unwrap()),
        name().prop_map(|s| JsonValue::from_serialize(&s).unwrap()),
        Just(JsonValue::from_text("null").unwrap()),
        Just(JsonValue::from_text(r#"{"a":[1,2.5,{"b":null}]}"#).unwrap()),
        Just(JsonValue::from_text("123456789012345678901234567890").unwrap()),
    ]
}

fn task_event() -> impl Strategy<Value = TaskEvent> {
    (
        name(),
        name(),
        prop::collection::vec(json_value(), 0..3),
        prop::option::of(name()),
        prop::option::of((name(), name(), name())),
        prop::sample::select(vec![
            "task_sent",
            "task_started",
            "task_succeeded",
            "task_failed",
            "task_retry",
            "task_cancelled",
            "task_expired",
            "task_new",
        ]),
    )
        .prop_map(|(task_id, engine, args, queue, error, kind)| {
            let mut e = TaskEvent::new(
                TaskEventType::from(kind),
                task_id,
                engine,
                Timestamp::parse("2026-02-06T01:30:00.123Z").unwrap(),
                "app.tasks.add",
            );
            e.args_redacted = args;
            e.kwargs_redacted = JsonObject::from_text(r#"{"k":"***"}"#).unwrap();
            e.queue = queue;
            e.error = error.map(|(t, m, tb)| TaskError::new(t, m, tb));
            e
        })
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        name(),
        prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..3),
    )
        .prop_map(|(id, fields)| {
            fields
                .into_iter()
                .filter(|(k, _)| k != "id")
                .fold(Schedule::new(id), |s, (k, v)| s.with(k, v))
        })
}

fn agent_frame() -> impl Strategy<Value = AgentFrame> {
    prop_oneof![
        (
            name(),
            prop::sample::select(vec!["django", "flask", "fastapi", "bare", "sanic"]),
            any::<u32>(),
            prop::collection::btree_map("[a-z]{1,6}", json_value(), 0..3)
        )
            .prop_map(|(agent, fw, pid, extra)| {
                let metadata = extra
                    .into_iter()
                    .filter(|(k, _)| k != "hostname" && k != "pid")
                    .fold(Metadata::new("host", u64::from(pid)), |m, (k, v)| {
                        m.with(k, v)
                    });
                let mut hello = Hello::new(agent, Framework::from(fw), "1.0", metadata);
                hello.engines = vec!["celery".into()];
                hello.capabilities.insert(
                    "celery".into(),
                    JsonObject::from_text(r#"{"retry":true}"#).unwrap(),
                );
                AgentFrame::Hello(hello)
            }),
        (any::<u64>(), prop::collection::vec(task_event(), 0..4))
            .prop_map(|(seq, events)| AgentFrame::EventBatch(EventBatch::new(seq, events))),
        Just(AgentFrame::Heartbeat(Heartbeat::new(
            Timestamp::parse("2026-02-06T01:30:00+02:00").unwrap()
        ))),
        (name(), any::<bool>(), prop::option::of(json_value())).prop_map(|(id, ok, result)| {
            AgentFrame::CommandResult(if ok {
                CommandResult::success(id, result)
            } else {
                CommandResult::failure(id, CommandError::new("E", "m"))
            })
        }),
        (name(), prop::collection::vec(schedule(), 0..3))
            .prop_map(|(s, list)| AgentFrame::ScheduleSnapshot(ScheduleSnapshot::new(s, list))),
        (
            name(),
            prop::option::of(prop::collection::vec(schedule(), 0..2)),
            prop::option::of(prop::collection::vec(name(), 0..3))
        )
            .prop_map(|(s, added, removed)| {
                let mut u = ScheduleUpdate::new(s);
                u.added = added;
                u.removed = removed;
                AgentFrame::ScheduleUpdate(u)
            }),
    ]
}

fn brain_frame() -> impl Strategy<Value = BrainFrame> {
    prop_oneof![
        any::<u64>().prop_map(|seq| BrainFrame::Ack(Ack::new(seq))),
        (
            name(),
            prop::sample::select(vec![
                "retry_task",
                "purge_queue",
                "query_state",
                "custom_verb"
            ])
        )
            .prop_map(|(id, verb)| BrainFrame::Command(Command::new(
                id,
                CommandVerb::from(verb),
                JsonObject::from_text(r#"{"task_id":"t"}"#).unwrap()
            ))),
        (name(), name()).prop_map(|(c, m)| BrainFrame::Error(ErrorFrame::new(c, m))),
    ]
}

proptest! {
    #[test]
    fn agent_frames_round_trip(frame in agent_frame()) {
        prop_assert_eq!(decode_agent(&encode_agent(&frame)).unwrap(), frame);
    }

    #[test]
    fn brain_frames_round_trip(frame in brain_frame()) {
        prop_assert_eq!(decode_brain(&encode_brain(&frame)).unwrap(), frame);
    }
}
