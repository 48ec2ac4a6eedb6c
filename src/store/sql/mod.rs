//! The SQL both backends run. PostgreSQL and SQLite share the schema shape,
//! the `$N` placeholders and nearly every statement, so each store trait is
//! implemented once per aggregate, here, and stamped out per backend by
//! [`impl_shared_sql!`]. What differs between the backends is behind the
//! hooks of [`backend::SqlBackend`], which is all the shared code calls.
//!
//! Macros rather than generic impls over `B: SqlBackend`: sqlx's executor
//! and codec traits make a backend-generic async impl a wall of
//! higher-ranked bounds (`for<'c> &'c mut B::Db::Connection: Executor<'c>`,
//! `Encode`/`Decode`/`Type` for every bound type, `FromRow` for every row),
//! repeated on every method; stamped out per backend, each method is
//! checked against the concrete database instead.

pub(crate) mod accounts;
pub(crate) mod backend;
pub(crate) mod compliance;
pub(crate) mod credentials;
pub(crate) mod event_log;
pub(crate) mod parse;
pub(crate) mod service_requests;
pub(crate) mod surveys;
pub(crate) mod ticket_insert;
pub(crate) mod ticket_rows;
pub(crate) mod tickets;

/// Implements every store trait, and so [`crate::store::Store`], for a
/// type implementing [`backend::SqlBackend`].
macro_rules! impl_shared_sql {
    ($store:ty) => {
        $crate::store::sql::accounts::impl_account_store!($store);
        $crate::store::sql::tickets::impl_ticket_store!($store);
        $crate::store::sql::surveys::impl_survey_store!($store);
        $crate::store::sql::service_requests::impl_service_request_store!($store);
        $crate::store::sql::compliance::impl_compliance_store!($store);
        $crate::store::sql::credentials::impl_credential_store!($store);
        $crate::store::sql::event_log::impl_event_log_store!($store);

        #[async_trait::async_trait]
        impl $crate::store::Health for $store {
            async fn ping(&self) -> $crate::error::Result<()> {
                $crate::store::sql::backend::SqlBackend::ping_database(self).await
            }
        }
    };
}
pub(crate) use impl_shared_sql;
