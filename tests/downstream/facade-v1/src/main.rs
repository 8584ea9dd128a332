//! Decodes a v1 batch through the facade, acknowledges it, and checks the close policy.

use brainwire::close::{v1::CloseCode, Backoff, Reconnect, ReconnectPolicy};
use brainwire::v1::{decode_agent, encode_brain, sniff, Ack, AgentFrame, BrainFrame, ProtocolVersion};

fn main() {
    let wire = br#"{"type":"event_batch","seq":41,"events":[]}"#;
    let AgentFrame::EventBatch(batch) = decode_agent(wire).expect("a valid batch") else {
        panic!("not a batch");
    };
    let ack = encode_brain(&BrainFrame::Ack(Ack::new(batch.seq)));
    assert_eq!(&ack[..], br#"{"type":"ack","seq":41}"#);
    assert_eq!(sniff(br#"{"type":"hello","protocol":"v1"}"#), ProtocolVersion::V1);
    let mut policy = ReconnectPolicy::new(Backoff::default());
    assert!(matches!(policy.on_close(CloseCode::AgentRevoked), Reconnect::Stop(_)));
    println!("downstream-facade-v1: ok ({})", String::from_utf8_lossy(&ack));
}
