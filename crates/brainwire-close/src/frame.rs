//! The close frame a connection ends with.

/// RFC 6455 §5.5: a control frame carries at most 125 payload bytes, two of which are
/// the code, leaving 123 for the reason.
pub const MAX_REASON_BYTES: usize = 123;

/// A close code and a reason that fits in a WebSocket close frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    code: u16,
    reason: String,
}

impl CloseFrame {
    /// A close frame, its reason cut to [`MAX_REASON_BYTES`] on a character boundary.
    pub fn new(code: impl Into<u16>, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > MAX_REASON_BYTES {
            let mut end = MAX_REASON_BYTES;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        Self {
            code: code.into(),
            reason,
        }
    }

    /// The close code.
    pub const fn code(&self) -> u16 {
        self.code
    }

    /// The reason, at most [`MAX_REASON_BYTES`] bytes.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A session's own decision to end its connection: the error that ended it, and the
/// close frame to send for it. The sessions of every family hand it out once, from
/// `poll_close`, after the frames queued before it (`poll_transmit`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Closing<E> {
    /// Why the session ended the connection.
    pub error: E,
    /// The close frame to send: the error's close code, its message as the reason.
    pub frame: CloseFrame,
}

impl<E: crate::NamesCloseCode> Closing<E> {
    /// The closing for `error`, with the close frame it names.
    pub fn new(error: E) -> Self {
        let frame = error.close_frame();
        Self { error, frame }
    }
}
