//! v1 decode in both directions and sniffing: never panic; what decodes re-encodes to a
//! frame that decodes to the same value; a decodable hello sniffs as v1.
#![no_main]

use brainwire_v1::{
    decode_agent, decode_brain, encode_agent, encode_brain, sniff, AgentFrame, ProtocolVersion,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let version = sniff(data);
    if let Ok(frame) = decode_agent(data) {
        let again = decode_agent(&encode_agent(&frame)).expect("an encoded frame decodes");
        assert_eq!(frame, again);
        if matches!(frame, AgentFrame::Hello(_)) && version != ProtocolVersion::V2 {
            assert_eq!(sniff(&encode_agent(&frame)), ProtocolVersion::V1);
        }
    }
    if let Ok(frame) = decode_brain(data) {
        assert_eq!(
            decode_brain(&encode_brain(&frame)).expect("an encoded frame decodes"),
            frame
        );
    }
});
