//! Policy versions through the server: it starts on the published policy as
//! version 1, uses a newly activated version within 2 s, and every later
//! decision about a ticket uses the version the ticket was received under.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use ticketd::domain::policy::Policy;
use ticketd::proto::pb;
use ticketd::store::{Store, TicketKey};

use crate::helpers::*;
use crate::support::admin::{text, ticketd_admin};

/// The published document, relabelled, with Business P2 at 2 h instead of 4 h.
pub fn tighter_business_p2() -> String {
    let published = Policy::published_document();
    let tight = published
        .replace(
            r#"version = "2026-11-standard""#,
            r#"version = "2026-12-business-p2-2h""#,
        )
        .replace(
            r#"business = { p1 = "1h", p2 = "4h","#,
            r#"business = { p1 = "1h", p2 = "2h","#,
        );
    assert_eq!(
        tight.lines().filter(|l| !published.contains(*l)).count(),
        2,
        "the published document changed shape; update the edit"
    );
    Policy::from_document(&tight).expect("the edited document is valid");
    tight
}

/// Activates `document` on `store` from the active version; its number.
pub async fn activate(
    store: &Arc<dyn Store>,
    document: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> i64 {
    let active = store.active_policy_number().await.unwrap();
    let label = Policy::from_document(document)
        .unwrap()
        .version()
        .to_owned();
    store
        .activate_policy(active, document, &label, "ops", "tighter Business P2", at)
        .await
        .unwrap()
        .number
}

/// Waits until `app`'s server answers GetPolicy with `label`; fails after 2 s.
async fn wait_until_in_use(app: &TestApp, label: &str, since: Instant) {
    loop {
        if app.get_policy().await.version == label {
            return;
        }
        assert!(
            since.elapsed() < StdDuration::from_secs(2),
            "policy {label} not in use within 2 s of its activation"
        );
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
}

async fn stored_version_number(app: &TestApp, ticket: &pb::Ticket) -> i64 {
    app.store()
        .get_ticket(TicketKey::Number(ticket.number))
        .await
        .unwrap()
        .policy_version_number
}

fn p2_ticket(account_id: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        impact: impact_for(pb::Priority::P2High),
        ..chat_ticket(account_id)
    }
}

fn p3_ticket(account_id: &str) -> pb::CreateTicketRequest {
    pb::CreateTicketRequest {
        impact: impact_for(pb::Priority::P3Normal),
        ..chat_ticket(account_id)
    }
}

async fn the_server_starts_on_the_published_policy_as_version_1(mut app: TestApp) {
    let version = app.store().active_policy().await.unwrap().unwrap();
    assert_eq!(version.number, 1);
    assert_eq!(version.document, Policy::published_document());
    assert_eq!(version.label, Policy::standard().version());
    assert_eq!(
        (version.activated_by.as_str(), version.note.as_str()),
        ("ticketd", "the published policy")
    );
    assert_eq!(app.get_policy().await.version, version.label);

    app.create_account("acme", pb::Plan::Business).await;
    let ticket = app.create_ticket(p2_ticket("acme")).await.unwrap();
    assert_eq!(ticket.policy_version, version.label);
    assert_eq!(stored_version_number(&app, &ticket).await, 1);

    // A restart finds version 1 and inserts nothing.
    app.restart().await;
    assert_eq!(app.count("policy_versions").await, 1);
}

/// Replicas starting together on an empty database insert version 1 once.
async fn seeding_is_safe_when_many_start_together(app: TestApp) {
    let store = app.store().clone();
    // Empty the table the server seeded, as before a first start.
    match &app.db {
        TestDb::Postgres { pool, .. } => {
            sqlx::query("DELETE FROM policy_versions")
                .execute(pool)
                .await
                .unwrap();
        }
        TestDb::Sqlite { pool, .. } => {
            sqlx::query("DELETE FROM policy_versions")
                .execute(pool)
                .await
                .unwrap();
        }
    }
    let seeders: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { ticketd::service::seed_policy(&*store, start_time()).await })
        })
        .collect();
    for seeder in seeders {
        seeder.await.unwrap().unwrap();
    }
    assert_eq!(app.count("policy_versions").await, 1);
    assert_eq!(store.active_policy_number().await.unwrap(), 1);
}

async fn a_new_version_is_used_within_2_s_and_recorded_on_tickets(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let since = Instant::now();
    let tight = activate(app.store(), &tighter_business_p2(), app.clock_now()).await;
    assert_eq!(tight, 2);
    wait_until_in_use(&app, "2026-12-business-p2-2h", since).await;
    let policy = app.get_policy().await;
    assert_eq!(policy.version, "2026-12-business-p2-2h");

    let ticket = app.create_ticket(p2_ticket("acme")).await.unwrap();
    assert_eq!(ticket.response_target, Some(hours(2)));
    assert_eq!(ticket.policy_version, "2026-12-business-p2-2h");
    assert_eq!(stored_version_number(&app, &ticket).await, tight);
}

async fn tickets_keep_the_targets_of_the_version_they_were_received_under(mut app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let before_warm = app.create_ticket(p3_ticket("acme")).await.unwrap();
    let before_cold = app.create_ticket(p3_ticket("acme")).await.unwrap();
    assert_eq!(before_warm.response_target, Some(hours(24)));

    let since = Instant::now();
    let tight = activate(app.store(), &tighter_business_p2(), app.clock_now()).await;
    assert_eq!(tight, 2);
    wait_until_in_use(&app, "2026-12-business-p2-2h", since).await;

    // A new ticket is decided under the new version.
    let after = app.create_ticket(p2_ticket("acme")).await.unwrap();
    assert_eq!(after.response_target, Some(hours(2)));
    assert_eq!(after.policy_version, "2026-12-business-p2-2h");
    assert_eq!(stored_version_number(&app, &after).await, tight);

    // One received before, reprioritised after: its own version's 4 h.
    let moved = app
        .reprioritize_as_lead(
            &before_warm.name,
            pb::Priority::P2High,
            "customer escalated",
        )
        .await
        .unwrap();
    assert_eq!(moved.response_target, Some(hours(4)));
    assert_eq!(
        moved.response_due_at,
        Some(ts(start_time() + chrono::Duration::hours(4)))
    );
    assert_eq!(moved.policy_version, "2026-11-standard");
    assert_eq!(stored_version_number(&app, &moved).await, 1);

    // After a restart the server holds only the active version; the old
    // one is read from the store when a ticket needs it.
    app.restart().await;
    wait_until_in_use(&app, "2026-12-business-p2-2h", Instant::now()).await;
    let moved = app
        .reprioritize_as_lead(
            &before_cold.name,
            pb::Priority::P2High,
            "customer escalated",
        )
        .await
        .unwrap();
    assert_eq!(moved.response_target, Some(hours(4)));
    // And the new ticket keeps the new version's target across a
    // reprioritisation there and back.
    app.reprioritize_as_lead(&after.name, pb::Priority::P3Normal, "less urgent")
        .await
        .unwrap();
    let back = app
        .reprioritize_as_lead(&after.name, pb::Priority::P2High, "urgent again")
        .await
        .unwrap();
    assert_eq!(back.response_target, Some(hours(2)));
}

/// `ticketd admin … policy ARGS` as an operator runs it.
fn ticketd_policy(database: &str, args: &[&str]) -> std::process::Output {
    ticketd_admin(database, "policy", args)
}

async fn an_operator_activates_lists_and_shows_versions_with_the_cli(app: TestApp) {
    let unique = uuid::Uuid::new_v4().simple();
    let bad_path = std::env::temp_dir().join(format!("ticketd_policy_bad_{unique}.toml"));
    let good_path = std::env::temp_dir().join(format!("ticketd_policy_{unique}.toml"));
    let tight = tighter_business_p2();
    let bad = tight
        .replace(
            r#"business = { p1 = "1h", p2 = "2h","#,
            r#"business = { p1 = "1h", p2 = "0h","#,
        )
        .replace("at_risk_percent = 75", "at_risk_percent = 0");
    std::fs::write(&bad_path, &bad).unwrap();
    std::fs::write(&good_path, &tight).unwrap();
    let activate = |path: &std::path::Path| {
        ticketd_policy(
            &app.db_url,
            &[
                "activate",
                path.to_str().unwrap(),
                "--by",
                "ana",
                "--note",
                "Business P2 to 2 h",
            ],
        )
    };

    // Every problem, by path and line; nothing written.
    let before = app.row_counts().await;
    let refused = activate(&bad_path);
    assert!(!refused.status.success());
    let problems = text(&refused.stderr);
    for expected in [
        "targets.first_response.business.p2",
        "at_risk_percent",
        "nothing was activated",
    ] {
        assert!(problems.contains(expected), "{expected}: {problems}");
    }
    assert!(problems.matches("line ").count() >= 2, "{problems}");
    assert_eq!(app.row_counts().await, before);
    assert_eq!(app.get_policy().await.version, "2026-11-standard");

    let activated = activate(&good_path);
    assert!(activated.status.success(), "{}", text(&activated.stderr));
    assert_eq!(text(&activated.stdout).trim(), "2");
    wait_until_in_use(&app, "2026-12-business-p2-2h", Instant::now()).await;

    let listed = ticketd_policy(&app.db_url, &["versions"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));
    let listing = text(&listed.stdout);
    let rows: Vec<&str> = listing.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{listing}");
    assert!(
        rows[0].starts_with('1')
            && rows[0].contains("2026-11-standard")
            && rows[0].contains("ticketd")
            && rows[0].contains("the published policy"),
        "{listing}"
    );
    assert!(
        rows[1].starts_with('2')
            && rows[1].contains("yes")
            && rows[1].contains("2026-12-business-p2-2h")
            && rows[1].contains("ana")
            && rows[1].contains("Business P2 to 2 h"),
        "{listing}"
    );

    let shown = ticketd_policy(&app.db_url, &["show"]);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert_eq!(text(&shown.stdout), tight);
    let first = ticketd_policy(&app.db_url, &["show", "--version", "1"]);
    assert_eq!(text(&first.stdout), Policy::published_document());
    let missing = ticketd_policy(&app.db_url, &["show", "--version", "9"]);
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("not found"),
        "{}",
        text(&missing.stderr)
    );

    let _ = std::fs::remove_file(bad_path);
    let _ = std::fs::remove_file(good_path);
}

on_every_store!(
    the_server_starts_on_the_published_policy_as_version_1,
    a_new_version_is_used_within_2_s_and_recorded_on_tickets,
    seeding_is_safe_when_many_start_together,
    tickets_keep_the_targets_of_the_version_they_were_received_under,
    an_operator_activates_lists_and_shows_versions_with_the_cli,
);

/// Two servers on one database take tickets concurrently while a version is
/// activated: each ticket is decided wholly under one version (the number
/// it records gives the target and label it got), and both servers use the
/// new version within 2 s.
async fn two_servers_switch_mid_intake_without_mixing_versions(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let second = app.start_second_server().await.unwrap();
    let addr = second.local_addr();
    let (stop_second, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(second.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_lazy();
    let clients = [
        app.tickets.clone(),
        ticketd::client::ticket_client(channel, app.bearer()),
    ];

    let started = Instant::now();
    let run_for = StdDuration::from_millis(3_500);
    let mut writers = Vec::new();
    for (server, client) in clients.iter().enumerate() {
        for _ in 0..4 {
            let mut client = client.clone();
            writers.push(tokio::spawn(async move {
                let mut received = Vec::new();
                while started.elapsed() < run_for {
                    let sent_at = started.elapsed();
                    let ticket = client
                        .create_ticket(p2_ticket("acme"))
                        .await
                        .unwrap()
                        .into_inner()
                        .ticket
                        .unwrap();
                    received.push((server, sent_at, ticket));
                    tokio::time::sleep(StdDuration::from_millis(15)).await;
                }
                received
            }));
        }
    }
    tokio::time::sleep(StdDuration::from_millis(800)).await;
    let tight = activate(app.store(), &tighter_business_p2(), app.clock_now()).await;
    let activated = started.elapsed();

    let mut tickets = Vec::new();
    for writer in writers {
        tickets.extend(writer.await.unwrap());
    }
    let recorded: std::collections::HashMap<i64, i64> =
        sqlx::query_as::<_, (i64, i64)>("SELECT number, policy_version_number FROM tickets")
            .fetch_all(app.pg())
            .await
            .unwrap()
            .into_iter()
            .collect();
    assert_eq!(recorded.len(), tickets.len());
    let mut seen = [[0; 2]; 2];
    for (server, sent_at, ticket) in &tickets {
        let version = recorded[&ticket.number];
        let (target, label) = match version {
            1 => (hours(4), "2026-11-standard"),
            v if v == tight => (hours(2), "2026-12-business-p2-2h"),
            other => panic!("ticket {} records version {other}", ticket.number),
        };
        assert_eq!(
            (ticket.response_target, ticket.policy_version.as_str()),
            (Some(target), label),
            "ticket {} on server {server} records version {version}",
            ticket.number
        );
        if *sent_at >= activated + StdDuration::from_secs(2) {
            assert_eq!(
                version,
                tight,
                "server {server} still used version 1 {:?} after the activation",
                *sent_at - activated
            );
        }
        seen[*server][usize::from(version == tight)] += 1;
    }
    for (server, counts) in seen.iter().enumerate() {
        assert!(
            counts[0] > 0 && counts[1] > 0,
            "server {server} took tickets under both versions: {counts:?}"
        );
    }

    let _ = stop_second.send(());
    second.await.unwrap().unwrap();
}

on_postgres!(two_servers_switch_mid_intake_without_mixing_versions);
