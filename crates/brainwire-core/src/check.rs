//! The field checks every family applies after decoding one struct: the caps and bounds
//! of the protocols' models, counted as their reference implementations count.

use serde::de::DeserializeOwned;

use crate::{FieldProblem, Node, ShapeError};

/// Decodes exactly one struct from a parsed document; a mismatch is
/// [`ShapeError::Schema`].
///
/// # Errors
///
/// [`ShapeError::Schema`] when `root` does not have `T`'s shape.
pub fn one<T: DeserializeOwned>(root: Node<'_>) -> Result<T, ShapeError> {
    root.decode().map_err(ShapeError::Schema)
}

/// A string of `min..=max` characters (code points, as Python's `len` counts them).
///
/// # Errors
///
/// [`ShapeError::Field`] with [`FieldProblem::TooLong`] or [`FieldProblem::TooShort`].
pub fn chars(field: &'static str, value: &str, min: usize, max: usize) -> Result<(), ShapeError> {
    // The byte length bounds the character count from both sides: count only when the
    // bytes alone cannot decide.
    if value.len() <= max && value.len() >= min.saturating_mul(4) {
        return Ok(());
    }
    length(field, value.chars().count(), min, max)
}

/// An optional string of at most `max` characters, checked when present.
///
/// # Errors
///
/// As [`chars`].
pub fn opt_chars(field: &'static str, value: Option<&str>, max: usize) -> Result<(), ShapeError> {
    value.map_or(Ok(()), |v| chars(field, v, 0, max))
}

/// A list or map of at most `max` entries.
///
/// # Errors
///
/// [`ShapeError::Field`] with [`FieldProblem::TooLong`].
pub fn entries(field: &'static str, len: usize, max: usize) -> Result<(), ShapeError> {
    length(field, len, 0, max)
}

/// A number within `min..=max`.
///
/// # Errors
///
/// [`ShapeError::Field`] with [`FieldProblem::OutOfRange`].
pub fn range<T: PartialOrd>(
    field: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<(), ShapeError> {
    if value < min || value > max {
        return Err(ShapeError::Field {
            field,
            problem: FieldProblem::OutOfRange,
        });
    }
    Ok(())
}

fn length(field: &'static str, len: usize, min: usize, max: usize) -> Result<(), ShapeError> {
    let problem = if len > max {
        FieldProblem::TooLong { len, max }
    } else if len < min {
        FieldProblem::TooShort { len, min }
    } else {
        return Ok(());
    };
    Err(ShapeError::Field { field, problem })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(result: Result<(), ShapeError>) -> Option<FieldProblem> {
        match result {
            Ok(()) => None,
            Err(ShapeError::Field { problem, .. }) => Some(problem),
            Err(other) => panic!("not a field error: {other:?}"),
        }
    }

    #[test]
    fn chars_count_code_points_not_bytes() {
        // Four two-byte characters: eight bytes, four characters.
        assert_eq!(problem(chars("f", "éééé", 0, 4)), None);
        assert_eq!(
            problem(chars("f", "ééééé", 0, 4)),
            Some(FieldProblem::TooLong { len: 5, max: 4 })
        );
        assert_eq!(
            problem(chars("f", "", 1, 4)),
            Some(FieldProblem::TooShort { len: 0, min: 1 })
        );
        // Three bytes could be fewer than `min` characters: counted, and enough.
        assert_eq!(problem(chars("f", "abc", 1, 4)), None);
    }

    #[test]
    fn entries_and_range_name_the_field() {
        assert_eq!(problem(entries("l", 3, 3)), None);
        match entries("l", 4, 3) {
            Err(ShapeError::Field { field, problem }) => {
                assert_eq!(field, "l");
                assert_eq!(problem, FieldProblem::TooLong { len: 4, max: 3 });
                assert_eq!(problem.kind(), "too_long");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(problem(range("n", 0, 1, 9)), Some(FieldProblem::OutOfRange));
        assert_eq!(problem(range("n", 9, 1, 9)), None);
        assert_eq!(problem(opt_chars("o", None, 0)), None);
        assert_eq!(
            problem(opt_chars("o", Some("ab"), 1)),
            Some(FieldProblem::TooLong { len: 2, max: 1 })
        );
    }

    #[test]
    fn unknown_types_are_cut_to_characters_not_bytes() {
        let long = "é".repeat(100);
        match ShapeError::unknown_type(&long) {
            ShapeError::UnknownType { found } => {
                assert_eq!(found.chars().count(), crate::MAX_TYPE_CHARS_KEPT);
                assert_eq!(found.len(), 2 * crate::MAX_TYPE_CHARS_KEPT);
            }
            other => panic!("{other:?}"),
        }
    }
}
