//! The `Node` API: what a parsed value is, its scalars, its members and items.

use super::*;

/// What kind of JSON value a [`Node`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `null`
    Null,
    /// `true` or `false`
    Bool,
    /// A number without `.`, `e` or `E`: Python's exact `int`.
    Integer,
    /// Any other number: Python's `float`, always finite.
    Float,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

/// One value of a [`Document`].
#[derive(Debug, Clone, Copy)]
pub struct Node<'t> {
    pub(super) doc: Document<'t>,
    pub(super) index: usize,
}

impl<'t> Node<'t> {
    pub(super) fn entry(&self) -> Entry {
        self.doc.entry(self.index)
    }

    pub(super) fn at(&self, index: usize) -> Node<'t> {
        Node {
            doc: self.doc,
            index,
        }
    }

    /// What kind of value this is.
    pub fn kind(&self) -> Kind {
        match self.entry().tag() {
            Tag::Null => Kind::Null,
            Tag::True | Tag::False => Kind::Bool,
            Tag::Integer => Kind::Integer,
            Tag::Float | Tag::ReprFloat => Kind::Float,
            Tag::RawString | Tag::DecodedString => Kind::String,
            Tag::Array => Kind::Array,
            Tag::Object => Kind::Object,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        self.entry().tag() == Tag::Null
    }

    /// The boolean, when this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self.entry().tag() {
            Tag::True => Some(true),
            Tag::False => Some(false),
            _ => None,
        }
    }

    /// The exact digits (with an optional leading `-`), when this is an integer.
    pub fn as_integer(&self) -> Option<&'t str> {
        (self.entry().tag() == Tag::Integer).then(|| self.raw_text())
    }

    /// The value, correctly rounded like Python's `float()`, when this is a float.
    pub fn as_f64(&self) -> Option<f64> {
        matches!(self.entry().tag(), Tag::Float | Tag::ReprFloat)
            .then(|| self.raw_text().parse().expect("checked while parsing"))
    }

    /// The decoded text, when this is a string.
    pub fn as_str(&self) -> Option<&'t str> {
        self.doc.str_at(self.index)
    }

    /// This value exactly as the input wrote it (without the whitespace around it).
    pub fn raw_text(&self) -> &'t str {
        let e = self.entry();
        &self.doc.text[e.start() as usize..e.end as usize]
    }

    /// Where this integer, or this string without escapes, sits in the input (the
    /// string's quotes excluded).
    pub(crate) fn input_span(&self) -> Option<std::ops::Range<usize>> {
        let e = self.entry();
        match e.tag() {
            Tag::Integer => Some(e.start() as usize..e.end as usize),
            Tag::RawString => Some(e.start() as usize + 1..e.end as usize - 1),
            _ => None,
        }
    }

    /// The key of `value`, a member of this object.
    pub(crate) fn key_of(&self, value: Node<'t>) -> Node<'t> {
        self.at(value.index - 1)
    }

    /// Items of an array, members of an object, 0 otherwise (counted: linear time).
    pub fn len(&self) -> usize {
        match self.kind() {
            Kind::Array => self.items().count(),
            Kind::Object => self.members().count(),
            _ => 0,
        }
    }

    /// Whether this has no items or members (also for scalars).
    pub fn is_empty(&self) -> bool {
        let e = self.entry();
        !matches!(e.tag(), Tag::Array | Tag::Object) || e.a as usize == self.index + 1
    }

    /// The items, when this is an array (none otherwise).
    pub fn items(&self) -> Items<'t> {
        let e = self.entry();
        let end = if e.tag() == Tag::Array {
            e.a as usize
        } else {
            0
        };
        Items {
            doc: self.doc,
            next: self.index + 1,
            end,
        }
    }

    /// The members in canonical order (by key bytes), when this is an object (none
    /// otherwise).
    pub fn members(&self) -> Members<'t> {
        let e = self.entry();
        if e.tag() != Tag::Object {
            return Members {
                doc: self.doc,
                order: Order::Wire { next: 0, end: 0 },
            };
        }
        let order = if in_key_order(e.b) {
            Order::Wire {
                next: self.index + 1,
                end: e.a as usize,
            }
        } else {
            let count = self.doc.tape.order[e.b as usize] as usize;
            let first = e.b as usize + 1;
            Order::Sorted {
                next: first,
                end: first + count,
            }
        };
        Members {
            doc: self.doc,
            order,
        }
    }

    /// The members in wire order, when this is an object (none otherwise): cheaper than
    /// [`members`](Self::members) when order does not matter.
    pub fn members_in_wire_order(&self) -> Members<'t> {
        let e = self.entry();
        let end = if e.tag() == Tag::Object {
            e.a as usize
        } else {
            0
        };
        Members {
            doc: self.doc,
            order: Order::Wire {
                next: self.index + 1,
                end,
            },
        }
    }

    /// Whether this is a scalar whose wire text is its canonical form.
    pub(super) fn is_canonical_scalar(&self) -> bool {
        match self.entry().tag() {
            Tag::Null | Tag::True | Tag::False | Tag::RawString | Tag::ReprFloat => true,
            Tag::Integer => integer_is_canonical(self.raw_text().as_bytes()),
            Tag::Float | Tag::DecodedString | Tag::Array | Tag::Object => false,
        }
    }

    /// The member named `key`, when this is an object that has one.
    pub fn get(&self, key: &str) -> Option<Node<'t>> {
        self.members_in_wire_order()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}
