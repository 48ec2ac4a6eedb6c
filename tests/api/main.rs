//! Integration tests: each starts the real server on 127.0.0.1:0 with its own
//! fresh database and calls it through the generated client. Every test runs
//! against both stores (PostgreSQL and SQLite) unless it exercises something
//! only one of them has. One binary for all of them keeps link time down.

/// A module `$module` of tests, one a listed `async fn(TestApp)`, each run
/// on a fresh app on `$backend`.
macro_rules! on_store {
    ($module:ident, $backend:ident, $($test:ident),+) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $test() {
                    super::$test(
                        crate::helpers::spawn_app(crate::helpers::Backend::$backend).await,
                    )
                    .await
                }
            )+
        }
    };
}

/// Runs each listed `async fn(TestApp)` once per store, as
/// `<module>::postgres::<name>` and `<module>::sqlite::<name>`.
macro_rules! on_every_store {
    ($($test:ident),+ $(,)?) => {
        on_store!(postgres, Postgres, $($test),+);
        on_store!(sqlite, Sqlite, $($test),+);
    };
}

/// For tests of PostgreSQL-only behaviour (server-side sessions, row locks).
macro_rules! on_postgres {
    ($($test:ident),+ $(,)?) => {
        on_store!(postgres_only, Postgres, $($test),+);
    };
}

/// Runs each listed `async fn(TestApp)` once, on the one store named and with
/// the server's configuration adjusted by the closure given:
/// `name on Sqlite with |c| c.setting = value;`.
macro_rules! on_configured_store {
    ($($test:ident on $backend:ident with $adjust:expr;)+) => {
        $(
            #[tokio::test]
            async fn $test() {
                let app = crate::helpers::spawn_app_with(
                    crate::helpers::Backend::$backend,
                    $adjust,
                )
                .await;
                super::$test(app).await
            }
        )+
    };
}

mod helpers;
mod support;

mod accounts;
mod admin_cli;
mod auth;
mod bad_input;
mod compliance;
mod connections;
mod deadlines;
mod faults;
mod hostile_figures;
mod idempotency;
mod intake;
mod intake_groups;
mod lifecycle;
mod listing;
mod persistence;
mod policy_service;
mod policy_tables;
mod policy_versions;
mod professional_services;
mod serving;
mod store_contract;
mod surveys;
mod timeouts;
mod watch;
mod wire;
