//! Integration tests: each starts the real server on 127.0.0.1:0 against its
//! own fresh PostgreSQL database and calls it through the generated client.
//! One binary for all of them keeps link time down.

mod helpers;

mod accounts;
mod idempotency;
mod intake;
mod listing;
mod policy_service;
mod policy_tables;
mod serving;
