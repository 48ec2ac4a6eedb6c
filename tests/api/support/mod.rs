//! Test infrastructure beyond `spawn_app` (which lives in `helpers`): the
//! real `ticketd` binary as a child process, a TCP proxy that cuts the
//! database, and the contract's RPCs to check the tests' lists against.

pub mod contract;
pub mod process;
pub mod proxy;
