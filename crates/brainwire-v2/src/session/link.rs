//! What the agent's and the brain's sessions share: frame ids, signing and verifying
//! once established, the output queues, and how a fatal error ends the connection.

use std::collections::VecDeque;

use brainwire_close::Closing;
use brainwire_core::{Limits, Timestamp, WallClock};
use brainwire_sign::{FrameSigner, KeyId, Keyring, SessionBinding, SharedNonces};
use bytes::Bytes;

use super::{SendError, SessionError, Sources};
use crate::{encode, sign, Frame, FrameVerifier, Payload};

/// The keys of an established connection: this side verifies the peer with its keyring
/// and signs with the key the peer proved.
///
/// With one key the signer exists from the start. With several (a rotation), nothing is
/// signed until the peer's first verified frame shows which key it holds: signing with
/// the newest key would lock out a peer still on the previous one. Frames sent before
/// that wait in `held`, in order.
pub(super) struct Link {
    keys: Keyring,
    binding: SessionBinding,
    signer: Option<FrameSigner<WallClock, SharedNonces>>,
    verifier: FrameVerifier,
    proven: Option<KeyId>,
    held: Vec<(String, Payload)>,
    wall: WallClock,
    nonces: SharedNonces,
}

impl Link {
    /// The binding both sides sign under.
    pub(super) fn binding(&self) -> &SessionBinding {
        &self.binding
    }

    /// The key the peer's frames verified with; `None` before its first signed frame.
    pub(super) fn proven_key(&self) -> Option<KeyId> {
        self.proven
    }

    fn signer_for(&self, key: KeyId) -> FrameSigner<WallClock, SharedNonces> {
        FrameSigner::with_sources(
            self.keys.keys()[key.0].clone(),
            self.binding.clone(),
            self.wall.clone(),
            self.nonces.clone(),
        )
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

    /// The link of a connection bound to `binding`, verifying with `keys` under `limits`
    /// and signing with the key the peer proves (at once when there is only one), on the
    /// sources' clock and nonces.
    pub(super) fn link(&self, keys: Keyring, binding: SessionBinding, limits: Limits) -> Link {
        let mut link = Link {
            verifier: FrameVerifier::new(keys.clone(), binding.clone()).limits(limits),
            keys,
            binding,
            signer: None,
            proven: None,
            held: Vec::new(),
            wall: self.sources.wall.clone(),
            nonces: self.sources.nonces.clone(),
        };
        if link.keys.keys().len() == 1 {
            link.signer = Some(link.signer_for(KeyId(0)));
        }
        link
    }

    /// The peer's frame, verified (MAC, replay rules, schema). The first signed frame
    /// fixes the key this side signs with, and releases the frames held until then.
    pub(super) fn verify(
        &mut self,
        link: &mut Link,
        bytes: &[u8],
        wall: Timestamp,
    ) -> Result<Frame, SessionError> {
        let verified = link
            .verifier
            .verify(bytes, wall)
            .map_err(SessionError::Verify)?;
        if let (None, Some(key)) = (link.proven, verified.key) {
            link.proven = Some(key);
            if link.signer.is_none() {
                link.signer = Some(link.signer_for(key));
                for (id, payload) in std::mem::take(&mut link.held) {
                    self.send_signed(link, &id, &payload)
                        .map_err(SessionError::Send)?;
                }
            }
        }
        Ok(verified.frame)
    }

    /// Queues an unsigned handshake frame stamped `wall`.
    pub(super) fn send_unsigned(&mut self, kind: &str, payload: Payload, wall: Timestamp) {
        let mut frame = Frame::new(self.next_id(kind), payload);
        frame.ts = Some(wall);
        self.transmit.push_back(encode(&frame));
    }

    /// Signs `payload` as frame `id` and queues it (or holds it until the peer proves its
    /// key).
    pub(super) fn send_signed(
        &mut self,
        link: &mut Link,
        id: &str,
        payload: &Payload,
    ) -> Result<(), SendError> {
        let Some(signer) = &mut link.signer else {
            link.held.push((id.to_owned(), payload.clone()));
            return Ok(());
        };
        let wire = sign(signer, id, payload).map_err(SendError::Encode)?;
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
