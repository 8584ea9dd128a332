//! The decode errors every family shares: a document that is not a typed message at
//! all, a `type` the family does not define, a struct that does not match its schema, a
//! field out of its bounds. Each family's `DecodeError` embeds [`ShapeError`] as one
//! variant and adds only what is its own.

use crate::{JsonError, NodeError};

/// How many characters of an unknown `type` an error keeps.
pub const MAX_TYPE_CHARS_KEPT: usize = 64;

/// Why a document is not a valid message of a family, for reasons every family shares.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// Not JSON brainwire accepts, or over the limits.
    #[error("document is not acceptable JSON")]
    Json(#[source] JsonError),
    /// JSON, but not an object.
    #[error("document is not a JSON object")]
    NotObject,
    /// No string `type`.
    #[error("document has no string type")]
    MissingType,
    /// A `type` the family does not define.
    #[error("unknown type {found:?}")]
    UnknownType {
        /// The type sent, cut to [`MAX_TYPE_CHARS_KEPT`] characters.
        found: String,
    },
    /// A field has the wrong JSON type, or a required field is missing.
    #[error("document does not match its schema")]
    Schema(#[source] NodeError),
    /// A field breaks a cap or bound of the family's model.
    #[error("field {field} {problem}")]
    Field {
        /// The field, as `payload.events` or `id`.
        field: &'static str,
        /// What is wrong with it.
        problem: FieldProblem,
    },
}

/// What is wrong with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FieldProblem {
    /// Longer than allowed (characters for strings, entries for lists and maps).
    #[error("has {len} entries or characters, more than {max}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// Shorter than required.
    #[error("has {len} entries or characters, fewer than {min}")]
    TooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// A number outside its bounds.
    #[error("is outside its bounds")]
    OutOfRange,
}

impl FieldProblem {
    /// A stable snake_case name for tools and logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::TooLong { .. } => "too_long",
            Self::TooShort { .. } => "too_short",
            Self::OutOfRange => "out_of_range",
        }
    }
}

impl ShapeError {
    /// [`ShapeError::UnknownType`] for the type `found`, cut to
    /// [`MAX_TYPE_CHARS_KEPT`] characters so a peer cannot make the error large.
    pub fn unknown_type(found: &str) -> Self {
        Self::UnknownType {
            found: found.chars().take(MAX_TYPE_CHARS_KEPT).collect(),
        }
    }

    /// A stable snake_case name for tools and logs: the [`JsonError`]'s kind,
    /// `not_object`, `missing_type`, `unknown_type`, `invalid_frame` for a schema error and
    /// the [`FieldProblem`]'s kind for a field. Families that call their units messages
    /// rename `invalid_frame` in their own `kind()`.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::Json(e) => e.kind(),
            Self::NotObject => "not_object",
            Self::MissingType => "missing_type",
            Self::UnknownType { .. } => "unknown_type",
            Self::Schema(_) => "invalid_frame",
            Self::Field { problem, .. } => problem.kind(),
        }
    }

    /// Whether the document was refused for its size alone (RFC 6455's 1009 rather than
    /// a protocol error).
    pub const fn is_too_large(&self) -> bool {
        matches!(self, Self::Json(JsonError::TooLarge { .. }))
    }
}

impl From<JsonError> for ShapeError {
    fn from(error: JsonError) -> Self {
        Self::Json(error)
    }
}

impl From<NodeError> for ShapeError {
    fn from(error: NodeError) -> Self {
        Self::Schema(error)
    }
}
