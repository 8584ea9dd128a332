//! Size limits on what a peer controls, checked before any large allocation.

/// Upper bound on [`Limits::max_depth`]: the parser and writer recurse once per level, so
/// the depth a caller may ask for is capped to keep the stack use bounded (a few hundred
/// bytes per level, well inside a 2 MiB thread stack).
pub const MAX_DEPTH_CEILING: usize = 1024;

/// Limits applied while parsing JSON that came from a peer.
///
/// Like tungstenite's `WebSocketConfig`: construct with [`Limits::default`] and adjust
/// with the setters. Each default is chosen from what the deployed reference does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest document in bytes. Default 1 MiB: the brain's default
    /// `max_frame_size_bytes`, checked before the parser looks at a byte.
    pub max_bytes: usize,
    /// Deepest nesting of arrays and objects (the top-level container is depth 1).
    /// Default 256: the reference signer emits frames up to 254 levels deep, so anything
    /// less refuses authentic frames. Capped at [`MAX_DEPTH_CEILING`].
    pub max_depth: usize,
    /// Most digits in an integer literal. Default 4300: CPython's
    /// `sys.int_info.default_max_str_digits`; the reference cannot parse longer ones.
    pub max_integer_digits: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 1024 * 1024,
            max_depth: 256,
            max_integer_digits: 4300,
        }
    }
}

impl Limits {
    /// Sets [`Limits::max_bytes`].
    #[must_use]
    pub const fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// Sets [`Limits::max_depth`], capped at [`MAX_DEPTH_CEILING`].
    #[must_use]
    pub const fn max_depth(mut self, max_depth: usize) -> Self {
        self.max_depth = if max_depth > MAX_DEPTH_CEILING {
            MAX_DEPTH_CEILING
        } else {
            max_depth
        };
        self
    }

    /// Sets [`Limits::max_integer_digits`].
    #[must_use]
    pub const fn max_integer_digits(mut self, digits: usize) -> Self {
        self.max_integer_digits = digits;
        self
    }

    /// The depth actually enforced: the configured depth, never above the ceiling even
    /// when the public field was set directly.
    pub(crate) fn effective_depth(&self) -> usize {
        self.max_depth.min(MAX_DEPTH_CEILING)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_setter_is_capped() {
        assert_eq!(
            Limits::default().max_depth(5000).max_depth,
            MAX_DEPTH_CEILING
        );
        assert_eq!(Limits::default().max_depth(300).max_depth, 300);
    }

    #[test]
    fn direct_field_write_is_capped_when_enforced() {
        let limits = Limits {
            max_depth: usize::MAX,
            ..Limits::default()
        };
        assert_eq!(limits.effective_depth(), MAX_DEPTH_CEILING);
    }
}
