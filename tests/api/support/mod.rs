//! Test infrastructure beyond `spawn_app` (which lives in `helpers`): the
//! real `ticketd` binary as a child process, and a TCP proxy that cuts the
//! database.

pub mod process;
pub mod proxy;
