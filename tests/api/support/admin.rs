//! `ticketd admin …` run as an operator runs it: the binary, a database
//! named by flag (never by the environment), and its output as text.

use std::process::{Command, Output};

/// `ticketd admin --database DATABASE GROUP ARGS…`.
pub fn ticketd_admin(database: &str, group: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ticketd"))
        .args(["admin", "--database", database, group])
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run ticketd")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
