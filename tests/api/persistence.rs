//! What survives a restart, and what the embedded store refuses.

use ticketd::proto::pb;

use crate::helpers::*;

async fn restarting_the_server_keeps_accounts_and_tickets(mut app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let ticket = app.create_ticket(phone_ticket("acme")).await.unwrap();
    app.restart().await;
    let read = app
        .get_ticket(&ticket.name)
        .await
        .expect("the ticket survived the restart");
    assert_eq!(read, ticket);
    let next = app.create_ticket(chat_ticket("acme")).await.unwrap();
    assert!(
        next.number > ticket.number,
        "numbering continues after a restart"
    );
}

async fn a_second_process_on_the_same_sqlite_file_is_refused(app: TestApp) {
    let second = app.start_second_server().await;
    let message = format!("{:#}", second.err().expect("refused"));
    assert!(message.contains("one process only"), "{message}");
    assert!(
        message.contains("postgres://"),
        "names the way out: {message}"
    );
    // The first server is unaffected.
    app.create_account("acme", pb::Plan::Pro).await;
}

async fn several_servers_may_share_one_postgres_database(app: TestApp) {
    let second = app
        .start_second_server()
        .await
        .expect("replicas share PostgreSQL");
    drop(second);
    app.create_account("acme", pb::Plan::Pro).await;
}

on_every_store!(restarting_the_server_keeps_accounts_and_tickets);

mod sqlite_only {
    #[tokio::test]
    async fn a_second_process_on_the_same_sqlite_file_is_refused() {
        let app = crate::helpers::spawn_app(crate::helpers::Backend::Sqlite).await;
        super::a_second_process_on_the_same_sqlite_file_is_refused(app).await
    }
}

on_postgres!(several_servers_may_share_one_postgres_database);
