//! Iterators over the items of an array and the members of an object.

use super::*;

/// The items of an array [`Node`].
#[derive(Debug, Clone)]
pub struct Items<'t> {
    pub(super) doc: Document<'t>,
    pub(super) next: usize,
    pub(super) end: usize,
}

impl<'t> Iterator for Items<'t> {
    type Item = Node<'t>;

    fn next(&mut self) -> Option<Node<'t>> {
        if self.next >= self.end {
            return None;
        }
        let index = self.next;
        self.next = self.doc.next(index);
        Some(Node {
            doc: self.doc,
            index,
        })
    }
}

/// The members of an object [`Node`], in canonical or wire order.
#[derive(Debug, Clone)]
pub struct Members<'t> {
    pub(super) doc: Document<'t>,
    pub(super) order: Order,
}

#[derive(Debug, Clone)]
pub(super) enum Order {
    /// Walking the tape: the next key, and the index after the object.
    Wire { next: usize, end: usize },
    /// Walking the object's sorted index in `order`.
    Sorted { next: usize, end: usize },
}

impl<'t> Iterator for Members<'t> {
    type Item = (&'t str, Node<'t>);

    fn next(&mut self) -> Option<Self::Item> {
        let key = match &mut self.order {
            Order::Wire { next, end } => {
                if *next >= *end {
                    return None;
                }
                let key = *next;
                *next = self.doc.next(key + 1);
                key
            }
            Order::Sorted { next, end } => {
                if *next >= *end {
                    return None;
                }
                *next += 1;
                self.doc.tape.order[*next - 1] as usize
            }
        };
        let name = self.doc.str_at(key).expect("keys are strings");
        Some((
            name,
            Node {
                doc: self.doc,
                index: key + 1,
            },
        ))
    }
}
