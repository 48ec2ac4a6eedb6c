//! The Rust client of ticketd: the messages and tonic clients generated from
//! `proto/`, a channel that sends the caller's bearer token on every call,
//! and the conversions callers need. `ticketctl` is built on it; the
//! `ticketd` crate re-exports it (`ticketd::proto`, `ticketd::client`) and
//! adds the generated servers.

pub mod client;
pub mod convert;
pub mod proto;
