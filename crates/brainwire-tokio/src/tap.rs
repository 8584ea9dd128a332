//! A look at every frame a connection sends and receives, for transcripts and debugging
//! tools (what qlog is to QUIC), without taking over the connection's loop.

use std::fmt;
use std::sync::Arc;

/// Which way a frame went, seen from the side that holds the tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameDirection {
    /// Sent to the peer (after signing).
    Sent,
    /// Received from the peer (before verifying: refused frames are shown too).
    Received,
}

/// A function shown every frame of a connection, as its bytes on the wire
/// ([`BrainOptions::frame_tap`](crate::BrainOptions::frame_tap),
/// [`AgentOptions::frame_tap`](crate::AgentOptions::frame_tap)). It runs on the
/// connection's task, between frames: keep it quick, and never block (queue what it sees
/// with `try_send`, for example).
#[derive(Clone)]
pub struct FrameTap(Arc<SeeFrame>);

/// What a [`FrameTap`] calls.
type SeeFrame = dyn Fn(FrameDirection, &[u8]) + Send + Sync;

impl FrameTap {
    /// A tap calling `see` with each frame.
    pub fn new(see: impl Fn(FrameDirection, &[u8]) + Send + Sync + 'static) -> Self {
        Self(Arc::new(see))
    }

    pub(crate) fn see(&self, direction: FrameDirection, frame: &[u8]) {
        (self.0)(direction, frame);
    }
}

impl fmt::Debug for FrameTap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameTap").finish_non_exhaustive()
    }
}
