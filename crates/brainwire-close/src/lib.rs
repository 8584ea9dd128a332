//! Close codes of every brainwire protocol family, what each means for a client, and the
//! reconnect policy that follows from it: one call instead of a reconnect storm on a
//! revoked token or a give-up on a transient 1011.
//!
//! This crate does no I/O and pulls in no crypto. Each family's enum converts from any
//! `u16` (unknown codes are kept as `Other`, never an error) and back:
//!
//! | family | enum | source |
//! |---|---|---|
//! | RFC 6455 (all families) | [`StandardCode`] | RFC 6455 §7.4.1 |
//! | legacy v1 agent | [`v1::CloseCode`] | document 000 |
//! | v2 agent endpoint | [`v2::CloseCode`] | document 001 and the deployed brain |
//! | v2 dashboard endpoint | [`dashboard::CloseCode`] | document 001 |
//!
//! Each enum's docs carry its table (code, name, meaning, class), generated from the same
//! rows as the code. The [`CloseClass`] says what a client should do:
//!
//! | class | client action |
//! |---|---|
//! | [`Normal`](CloseClass::Normal) | done; do not reconnect |
//! | [`Transient`](CloseClass::Transient) | reconnect with backoff |
//! | [`Configuration`](CloseClass::Configuration) | stop and surface the error to an operator |
//! | [`Replaced`](CloseClass::Replaced) | stop: a newer connection of the same client took over |
//! | [`Unknown`](CloseClass::Unknown) | a code the family does not define: reconnect with backoff |
//!
//! ```
//! use brainwire_close::{v1, Backoff, CloseClass, CloseFrame, Reconnect, ReconnectPolicy};
//!
//! let code = v1::CloseCode::from(4005);
//! assert_eq!(code, v1::CloseCode::MalformedFrame);
//! assert_eq!(code.class(), CloseClass::Transient);
//! assert_eq!(code.to_string(), "malformed frame (4005)");
//!
//! let mut policy = ReconnectPolicy::new(Backoff::default());
//! assert!(matches!(policy.on_close(code), Reconnect::RetryAfter(_)));
//! assert!(matches!(policy.on_close(v1::CloseCode::AgentRevoked), Reconnect::Stop(_)));
//!
//! let frame = CloseFrame::new(4005u16, "é".repeat(100));
//! assert_eq!(frame.reason().len(), 122); // cut to 123 bytes on a character boundary
//! ```
//!
//! # Crate features
//!
//! None.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod codes;
mod frame;
mod reconnect;

pub use codes::{dashboard, v1, v2, NotStandard, StandardCode};
pub use frame::{CloseFrame, Closing, MAX_REASON_BYTES};
pub use reconnect::{Backoff, RandomSource, Reconnect, ReconnectPolicy, StopReason, SystemRandom};

/// What a client should do after a close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseClass {
    /// A normal closure: the peer is done with this connection.
    Normal,
    /// Something passing (a restart, a lost connection, idleness): reconnect with backoff.
    Transient,
    /// A problem a retry does not fix (credentials, version, policy): stop and surface it.
    Configuration,
    /// A newer connection of the same client took over: do not fight it.
    Replaced,
    /// A code the family does not define.
    Unknown,
}

impl CloseClass {
    /// A stable snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::Transient => "transient",
            Self::Configuration => "configuration",
            Self::Replaced => "replaced",
            Self::Unknown => "unknown",
        }
    }

    /// Whether a client may reconnect (with backoff) after a close of this class.
    pub const fn can_reconnect(self) -> bool {
        matches!(self, Self::Transient | Self::Unknown)
    }
}

/// A close code of some family: what [`ReconnectPolicy`] needs to decide.
pub trait FamilyCode: Copy {
    /// The numeric code.
    fn code(&self) -> u16;
    /// What a client should do after it.
    fn class(&self) -> CloseClass;
}

impl FamilyCode for StandardCode {
    fn code(&self) -> u16 {
        StandardCode::code(*self)
    }
    fn class(&self) -> CloseClass {
        StandardCode::class(*self)
    }
}

/// An error that ends a connection, and the close code it ends it with.
///
/// Every decode, authentication, signature and replay error of the protocol crates
/// implements this, so a server closes correctly with one call:
/// `socket.close(err.close_frame())`.
pub trait NamesCloseCode: std::error::Error {
    /// The family's close-code enum.
    type Code: FamilyCode;

    /// The code to close the connection with.
    fn close_code(&self) -> Self::Code;

    /// The close frame: the code, and this error's message as the reason (cut to the
    /// RFC 6455 limit).
    fn close_frame(&self) -> CloseFrame {
        CloseFrame::new(self.close_code().code(), self.to_string())
    }
}
