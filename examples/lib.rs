//! The programs are the `[[example]]` targets of this package; this library is empty.
