//! Classifies close codes and computes a backoff with brainwire-close alone.

use std::time::Duration;

use brainwire_close::{dashboard, v2, Backoff, CloseClass, CloseFrame};

fn main() {
    assert_eq!(v2::CloseCode::from(4408).class(), CloseClass::Transient);
    assert_eq!(dashboard::CloseCode::from(4402).class(), CloseClass::Configuration);
    assert_eq!(Backoff::default().delay_for(4), Duration::from_secs(8));
    let frame = CloseFrame::new(v2::CloseCode::IdleTimeout, "idle");
    println!("downstream-close-only: ok (close {} {})", frame.code(), frame.reason());
}
