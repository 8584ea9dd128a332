//! One enum per protocol family, each built from a single table of rows so that the
//! conversions, `Display`, the class and the docs cannot drift apart.

use std::fmt;

use crate::CloseClass;

/// Builds a close-code enum from rows of `Variant = code, "snake_name", "meaning", Class;`.
///
/// The rows produce the variants, their docs, a table in the enum's docs, `From<u16>`
/// (total: unknown codes become `Other`), `From<Enum> for u16`, `Display` (the meaning),
/// `name()` and `class()`.
macro_rules! close_code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $variant:ident = $code:literal, $snake:literal, $meaning:literal, $class:ident; )*
        }
        standard: $standard:ident
    ) => {
        $(#[$meta])*
        ///
        /// | code | name | meaning | class |
        /// |---|---|---|---|
        #[doc = concat!($( "| ", $code, " | `", $snake, "` | ", $meaning, " | [`", stringify!($class), "`](CloseClass::", stringify!($class), ") |\n", )*)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", $code, "`: ", $meaning, ".")]
                $variant,
            )*
            /// A standard RFC 6455 code (1000-1015).
            Standard(StandardCode),
            /// A code this family does not define, kept as received.
            Other(u16),
        }

        impl $name {
            /// Every code this family defines beyond the RFC 6455 ones, in table order.
            pub const DEFINED: &'static [$name] = &[$($name::$variant),*];

            /// The numeric code.
            pub const fn code(self) -> u16 {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Standard(standard) => standard.code(),
                    Self::Other(code) => code,
                }
            }

            /// A stable snake_case name (`"other"` for unknown codes).
            pub const fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $snake, )*
                    Self::Standard(standard) => standard.name(),
                    Self::Other(_) => "other",
                }
            }

            /// What a client should do after this close.
            pub const fn class(self) -> CloseClass {
                match self {
                    $( Self::$variant => CloseClass::$class, )*
                    Self::Standard(standard) => standard.class(),
                    Self::Other(_) => CloseClass::Unknown,
                }
            }

            /// Whether a client may reconnect (with backoff) after this close.
            pub const fn can_reconnect(self) -> bool {
                self.class().can_reconnect()
            }

            /// What the code means, as the family's documents say it.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $( Self::$variant => $meaning, )*
                    Self::Standard(standard) => standard.meaning(),
                    Self::Other(_) => "unknown close code",
                }
            }
        }

        impl From<u16> for $name {
            fn from(code: u16) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    _ => match $standard::try_from(code) {
                        Ok(standard) => Self::Standard(standard),
                        Err(_) => Self::Other(code),
                    },
                }
            }
        }

        impl From<$name> for u16 {
            fn from(code: $name) -> u16 {
                code.code()
            }
        }

        impl From<StandardCode> for $name {
            fn from(code: StandardCode) -> Self {
                Self::Standard(code)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} ({})", self.meaning(), self.code())
            }
        }

        impl crate::FamilyCode for $name {
            fn code(&self) -> u16 {
                $name::code(*self)
            }
            fn class(&self) -> CloseClass {
                $name::class(*self)
            }
        }
    };
}

/// Builds [`StandardCode`] from rows of `Variant = code, "snake_name", "meaning", Class`
/// and, where the class needs a reason, `, "reason"`: variants, docs and their table, `ALL`,
/// `name()`, `meaning()` and `class()`.
macro_rules! standard_codes {
    ($( $variant:ident = $code:literal, $snake:literal, $meaning:literal, $class:ident $(, $why:literal)?; )*) => {
        /// The codes RFC 6455 (section 7.4.1) defines, shared by every family.
        ///
        /// | code | name | meaning | class |
        /// |---|---|---|---|
        #[doc = concat!($( "| ", $code, " | `", $snake, "` | ", $meaning, " | [`", stringify!($class), "`](CloseClass::", stringify!($class), ")", $(": ", $why,)? " |\n", )*)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u16)]
        pub enum StandardCode {
            $(
                #[doc = concat!("`", $code, "`: ", $meaning, ".")]
                $variant = $code,
            )*
        }

        impl StandardCode {
            /// Every code, 1000 to 1015 in order.
            pub const ALL: &'static [StandardCode] = &[$(Self::$variant),*];

            /// A stable snake_case name.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $snake,)*
                }
            }

            /// What the code means.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => $meaning,)*
                }
            }

            /// What a client should do after this close (see the table on the type).
            pub const fn class(self) -> CloseClass {
                match self {
                    $(Self::$variant => CloseClass::$class,)*
                }
            }
        }
    };
}

// The one list of RFC 6455 codes.
standard_codes! {
    Normal = 1000, "normal", "normal closure", Normal;
    GoingAway = 1001, "going_away", "endpoint going away", Transient, "the peer restarts";
    ProtocolError = 1002, "protocol_error", "WebSocket protocol error", Configuration, "the same bytes fail again";
    UnsupportedData = 1003, "unsupported_data", "unsupported data type", Configuration;
    Reserved = 1004, "reserved", "reserved", Unknown, "never sent by a conforming peer";
    NoStatus = 1005, "no_status", "closed without a status code", Transient, "closed without a code";
    Abnormal = 1006, "abnormal", "connection lost without a close frame", Transient, "connection lost";
    InvalidPayload = 1007, "invalid_payload", "message data inconsistent with its type", Configuration;
    PolicyViolation = 1008, "policy_violation", "policy violation", Configuration;
    MessageTooBig = 1009, "message_too_big", "message too big", Configuration;
    MandatoryExtension = 1010, "mandatory_extension", "required extension not negotiated", Configuration;
    InternalError = 1011, "internal_error", "internal server error", Transient;
    ServiceRestart = 1012, "service_restart", "service restarting", Transient;
    TryAgainLater = 1013, "try_again_later", "try again later", Transient;
    BadGateway = 1014, "bad_gateway", "bad gateway", Transient;
    TlsHandshake = 1015, "tls_handshake", "TLS handshake failed", Configuration;
}

impl StandardCode {
    /// The numeric code.
    pub const fn code(self) -> u16 {
        self as u16
    }
}

/// The code was not one of RFC 6455's 1000-1015.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotStandard(pub u16);

impl TryFrom<u16> for StandardCode {
    type Error = NotStandard;

    fn try_from(code: u16) -> Result<Self, NotStandard> {
        match code {
            1000..=1015 => Ok(Self::ALL[usize::from(code - 1000)]),
            _ => Err(NotStandard(code)),
        }
    }
}

impl From<StandardCode> for u16 {
    fn from(code: StandardCode) -> u16 {
        code.code()
    }
}

impl fmt::Display for StandardCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.meaning(), self.code())
    }
}

/// The legacy v1 agent protocol (`wss://<brain>/ws`, document 000).
pub mod v1 {
    use super::*;

    close_code_enum! {
        /// Close codes of the legacy v1 agent protocol.
        ///
        /// Document 000: "reconnect with exponential backoff on 1006 / 1011 / 4005 and
        /// similar transient codes. On 4001 / 4002 / 4003, stop and log - these are
        /// configuration errors." A name conflict (4004) means two agents are configured
        /// with one name: retrying only fights the other agent, so it stops too.
        pub enum CloseCode {
            ProtocolVersionMismatch = 4001, "protocol_version_mismatch", "protocol version mismatch", Configuration;
            InvalidToken = 4002, "invalid_token", "invalid token", Configuration;
            AgentRevoked = 4003, "agent_revoked", "agent revoked", Configuration;
            AgentNameConflict = 4004, "agent_name_conflict", "agent name conflict", Configuration;
            MalformedFrame = 4005, "malformed_frame", "malformed frame", Transient;
        }
        standard: StandardCode
    }
}

/// The v2 agent endpoint (`/ws/agent`, document 001 and the deployed brain).
pub mod v2 {
    use super::*;

    close_code_enum! {
        /// Close codes of the v2 agent endpoint.
        ///
        /// Document 001: "reconnect with exponential backoff on 1006, 1011, 4408, and
        /// similar transient codes. On 4401, 4426, or 4429, stop and surface the error."
        /// The deployed brain also sends 4002 (a newer connection of the same agent took
        /// over: do not fight it), 4003 (revoked or archived), 4403 (source refused, or a
        /// signed frame failed its MAC or replay checks: a wrong secret or a skewed clock,
        /// which a retry does not fix) and reserves 4427 (version skew). A malformed
        /// handshake (4400) repeats on every try, so it stops as well.
        pub enum CloseCode {
            Replaced = 4002, "replaced", "replaced by a newer connection of the same agent", Replaced;
            Revoked = 4003, "revoked", "agent revoked or project archived", Configuration;
            MalformedHandshake = 4400, "malformed_handshake", "malformed handshake or non-hello first frame", Configuration;
            BearerRejected = 4401, "bearer_rejected", "bearer token rejected", Configuration;
            Forbidden = 4403, "forbidden", "source refused or signed frame failed MAC or replay checks", Configuration;
            IdleTimeout = 4408, "idle_timeout", "idle timeout reached without a heartbeat", Transient;
            UnsupportedProtocol = 4426, "unsupported_protocol", "protocol version not supported", Configuration;
            VersionSkew = 4427, "version_skew", "agent outside the supported version skew", Configuration;
            ConnectionCapExceeded = 4429, "connection_cap_exceeded", "per-agent connection cap exceeded", Configuration;
        }
        standard: StandardCode
    }
}

/// The v2 dashboard endpoint (`/ws/dashboard`, document 001).
pub mod dashboard {
    use super::*;

    close_code_enum! {
        /// Close codes of the v2 dashboard endpoint. Only idleness is worth a retry; the
        /// others need a new login, a new origin or a new role.
        pub enum CloseCode {
            BadRequest = 4400, "bad_request", "bad request", Configuration;
            NoSession = 4401, "no_session", "no session", Configuration;
            OriginMismatch = 4402, "origin_mismatch", "session-bound origin mismatch", Configuration;
            InsufficientRole = 4403, "insufficient_role", "insufficient role", Configuration;
            Idle = 4408, "idle", "idle timeout", Transient;
        }
        standard: StandardCode
    }
}
