//! What the agent's and the brain's sessions share: frame ids, signing and verifying
//! once established, the output queues, and how a fatal error ends the connection.

use std::collections::VecDeque;

use brainwire_close::Closing;
use brainwire_core::{Timestamp, WallClock};
use brainwire_sign::{FrameSigner, Keyring, Secret, SessionBinding, SharedNonces};
use bytes::Bytes;

use super::{SendError, SessionError, Sources};
use crate::{encode, sign, Frame, FrameVerifier, Payload, VerifyError};

/// The keys of an established connection: this side signs with one key and verifies the
/// peer with its keyring.
pub(super) struct Link {
    signer: FrameSigner<WallClock, SharedNonces>,
    verifier: FrameVerifier,
}

impl Link {
    /// The peer's frame, verified (MAC, replay rules, schema).
    pub(super) fn verify(&mut self, bytes: &[u8], wall: Timestamp) -> Result<Frame, VerifyError> {
        self.verifier
            .verify(bytes, wall)
            .map(|verified| verified.frame)
    }

    /// The binding both sides sign under.
    pub(super) fn binding(&self) -> &SessionBinding {
        self.signer.binding()
    }
}

/// The state both sessions keep besides their own: where frame ids, signed frames,
/// events and the one fatal error go.
pub(super) struct Core<E> {
    sources: Sources,
    next_frame: u64,
    transmit: VecDeque<Bytes>,
    events: VecDeque<E>,
    close: Option<Closing<SessionError>>,
}

impl<E> Core<E> {
    pub(super) fn new(sources: Sources) -> Self {
        Self {
            sources,
            next_frame: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            close: None,
        }
    }

    /// A fresh frame id: the sources' prefix, what the frame is, a counter.
    pub(super) fn next_id(&mut self, kind: &str) -> String {
        self.next_frame += 1;
        format!(
            "{}-{kind}-{}",
            self.sources.frame_id_prefix, self.next_frame
        )
    }

    /// The link of a connection bound to `binding`: signing with `key`, verifying with
    /// `keys`, on the sources' clock and nonces.
    pub(super) fn link(&self, key: Secret, keys: Keyring, binding: SessionBinding) -> Link {
        Link {
            signer: FrameSigner::with_sources(
                key,
                binding.clone(),
                self.sources.wall.clone(),
                self.sources.nonces.clone(),
            ),
            verifier: FrameVerifier::new(keys, binding),
        }
    }

    /// Queues an unsigned handshake frame stamped `wall`.
    pub(super) fn send_unsigned(&mut self, kind: &str, payload: Payload, wall: Timestamp) {
        let mut frame = Frame::new(self.next_id(kind), payload);
        frame.ts = Some(wall);
        self.transmit.push_back(encode(&frame));
    }

    /// Signs `payload` as frame `id` and queues it.
    pub(super) fn send_signed(
        &mut self,
        link: &mut Link,
        id: &str,
        payload: &Payload,
    ) -> Result<(), SendError> {
        let wire = sign(&mut link.signer, id, payload).map_err(SendError::Encode)?;
        self.transmit.push_back(wire);
        Ok(())
    }

    /// Records a fatal error: it and its close frame wait in `poll_close`, after the
    /// frames queued before it. Only the first error of a connection is kept.
    pub(super) fn fail(&mut self, error: SessionError) {
        self.close.get_or_insert_with(|| Closing::new(error));
    }

    /// Drops the frames a connection that is gone left unsent; its fatal error, if not
    /// yet polled, stays for `poll_close`.
    pub(super) fn drop_unsent(&mut self) {
        self.transmit.clear();
    }

    /// Starts a new connection: also forgets an unpolled fatal error of the previous one.
    pub(super) fn reset_connection(&mut self) {
        self.drop_unsent();
        self.close = None;
    }

    pub(super) fn push_event(&mut self, event: E) {
        self.events.push_back(event);
    }

    pub(super) fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    pub(super) fn poll_event(&mut self) -> Option<E> {
        self.events.pop_front()
    }

    pub(super) fn poll_close(&mut self) -> Option<Closing<SessionError>> {
        self.close.take()
    }
}
