//! What the brainwire benches and tests share, in one package of the workspace instead of
//! files included across packages: the v2 workloads ([`workloads`]), the decode bench
//! every family runs ([`family_decode`]), the brain the tokio driver is measured
//! against ([`brain`]) and the MAC floor ([`floor`]). Not published; the crates take it as a
//! dev-dependency, which `cargo package` drops.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod brain;
pub mod family_decode;
pub mod floor;
pub mod workloads;
