//! The caps and bounds of the reference's pydantic models, checked after decoding.

use crate::{DecodeError, FieldProblem};

/// `max_length` on a `str`: counted in characters (code points), as Python does.
pub(crate) fn chars(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), DecodeError> {
    // Byte length bounds the character count from above: skip counting when it fits.
    if value.len() <= max && value.len() >= min * 4 {
        return Ok(());
    }
    let len = value.chars().count();
    length(field, len, min, max)
}

/// Optional string: checked when present.
pub(crate) fn opt_chars(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<(), DecodeError> {
    value.map_or(Ok(()), |v| chars(field, v, 0, max))
}

/// `max_length` on a list or dict.
pub(crate) fn entries(field: &'static str, len: usize, max: usize) -> Result<(), DecodeError> {
    length(field, len, 0, max)
}

fn length(field: &'static str, len: usize, min: usize, max: usize) -> Result<(), DecodeError> {
    if len > max {
        return Err(DecodeError::Field {
            field,
            problem: FieldProblem::TooLong { len, max },
        });
    }
    if len < min {
        return Err(DecodeError::Field {
            field,
            problem: FieldProblem::TooShort { len, min },
        });
    }
    Ok(())
}

/// `ge`/`le` on a number.
pub(crate) fn range<T: PartialOrd>(
    field: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<(), DecodeError> {
    if value < min || value > max {
        return Err(DecodeError::Field {
            field,
            problem: FieldProblem::OutOfRange,
        });
    }
    Ok(())
}
