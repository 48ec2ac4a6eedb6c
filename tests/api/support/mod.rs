//! Test infrastructure beyond `spawn_app` (which lives in `helpers`):
//! `ticketd admin` run as an operator runs it, the real `ticketd` binary as a
//! child process, a TCP proxy that cuts the
//! database, a raw HTTP/2 connection, the contract's RPCs to check the
//! tests' lists against, the one list of calls to those RPCs that the
//! access matrix and the bad-input cases share, and the percentiles timing
//! tests print.

pub mod admin;
pub mod contract;
pub mod figures;
pub mod process;
pub mod proxy;
pub mod raw;
pub mod rpcs;
