//! `ticketd admin credentials`: the server-side way credentials are issued,
//! listed and revoked, run as an operator would run it.

use std::process::Output;

use crate::support::admin::{text, ticketd_admin};

fn ticketd(database: &str, args: &[&str]) -> Output {
    ticketd_admin(database, "credentials", args)
}

#[test]
fn an_operator_issues_lists_and_revokes_credentials_and_secrets_are_shown_once() {
    let path =
        std::env::temp_dir().join(format!("ticketd_cli_{}.db", uuid::Uuid::new_v4().simple()));
    let database = format!("sqlite://{}", path.display());

    let issued = ticketd(
        &database,
        &[
            "issue",
            "--name",
            "ivr",
            "--role",
            "intake",
            "--channels",
            "phone",
        ],
    );
    assert!(issued.status.success(), "{}", text(&issued.stderr));
    // Only the token is on stdout, so `export TICKETD_TOKEN=$(…)` works.
    let token = text(&issued.stdout);
    let token = token.trim_end();
    assert!(
        token.starts_with("tkd_") && !token.contains(char::is_whitespace),
        "{token:?}"
    );
    assert!(
        text(&issued.stderr).contains("intake: phone"),
        "{}",
        text(&issued.stderr)
    );

    let listed = ticketd(&database, &["list"]);
    assert!(listed.status.success());
    let listing = text(&listed.stdout);
    let (_, secret) = token.trim_start_matches("tkd_").split_once('_').unwrap();
    assert!(
        listing.contains("ivr") && listing.contains("intake: phone"),
        "{listing}"
    );
    assert!(
        !listing.contains(secret),
        "the list shows a secret: {listing}"
    );

    let refused = ticketd(
        &database,
        &[
            "issue",
            "--name",
            "ivr",
            "--role",
            "intake",
            "--channels",
            "phone",
        ],
    );
    assert!(
        !refused.status.success(),
        "a second live credential named ivr"
    );
    let no_channels = ticketd(&database, &["issue", "--name", "web", "--role", "intake"]);
    assert!(!no_channels.status.success());
    assert!(
        text(&no_channels.stderr).contains("--channels"),
        "{}",
        text(&no_channels.stderr)
    );

    let revoked = ticketd(&database, &["revoke", "ivr"]);
    assert!(revoked.status.success(), "{}", text(&revoked.stderr));
    let again = ticketd(&database, &["revoke", "ivr"]);
    assert!(!again.status.success(), "revoking twice succeeded");
    let listing = text(&ticketd(&database, &["list"]).stdout);
    let row = listing.lines().find(|l| l.contains("ivr")).unwrap();
    assert!(
        !row.trim_end().ends_with('-'),
        "not shown as revoked: {row}"
    );

    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// On SQLite the server holds the file for itself; the admin command still
/// works beside it, so the README's walk-through can issue a token while
/// the server runs.
#[tokio::test]
async fn a_credential_issued_beside_a_running_server_works_at_once() {
    let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
    let issued = tokio::task::spawn_blocking({
        let database = app.db_url.clone();
        move || {
            ticketd(
                &database,
                &["issue", "--name", "wall", "--role", "dashboard"],
            )
        }
    })
    .await
    .unwrap();
    assert!(issued.status.success(), "{}", text(&issued.stderr));
    let token = text(&issued.stdout);
    let (mut tickets, _) = app.clients_with(token.trim_end());
    tickets
        .list_tickets(ticketd::proto::pb::ListTicketsRequest::default())
        .await
        .expect("the new dashboard credential reads tickets");
}
