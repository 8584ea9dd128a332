//! Cross-crate tests live in `it/`; this library is empty on purpose so that the package
//! builds without its tests.
