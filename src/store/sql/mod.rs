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
pub(crate) mod policy_versions;
pub(crate) mod rows;
pub(crate) mod service_requests;
pub(crate) mod surveys;
pub(crate) mod ticket_insert;
pub(crate) mod tickets;

/// Appends ` AND <column> = <value>` when there is a value: a listing's
/// optional equality filter.
pub fn push_and_equals<'args, DB: sqlx::Database, T>(
    query: &mut sqlx::QueryBuilder<'args, DB>,
    column: &str,
    value: Option<T>,
) where
    T: 'args + sqlx::Encode<'args, DB> + sqlx::Type<DB>,
{
    if let Some(value) = value {
        query.push(format!(" AND {column} = ")).push_bind(value);
    }
}

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
        $crate::store::sql::policy_versions::impl_policy_store!($store);

        // A const block so the expansion can have its own imports.
        const _: () = {
            use $crate::error::{Error, Result};
            use $crate::store::sql::backend::SqlBackend;

            type Db = <$store as SqlBackend>::Db;

            type Query<'q, R> =
                sqlx::query::QueryAs<'q, Db, R, <Db as sqlx::Database>::Arguments<'q>>;

            impl $store {
                /// Runs `query` on a connection from `acquire`: every row it
                /// returns.
                async fn fetch_all_rows<'q, R>(&self, query: Query<'q, R>) -> Result<Vec<R>>
                where
                    R: Send + Unpin + for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row>,
                {
                    Ok(query.fetch_all(&mut *self.acquire().await?).await?)
                }

                /// Runs `query` like `fetch_all_rows` and reads every row into
                /// the domain's type: the end of every listing.
                async fn fetch_all_into<'q, R, T>(&self, query: Query<'q, R>) -> Result<Vec<T>>
                where
                    R: Send + Unpin + for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row>,
                    T: TryFrom<R, Error = Error>,
                {
                    let rows = self.fetch_all_rows(query).await?;
                    rows.into_iter().map(T::try_from).collect()
                }
            }
        };

        #[async_trait::async_trait]
        impl $crate::store::Health for $store {
            async fn ping(&self) -> $crate::error::Result<()> {
                $crate::store::sql::backend::SqlBackend::ping_database(self).await
            }
        }
    };
}
pub(crate) use impl_shared_sql;

/// `SELECT <columns> FROM <table> WHERE <key> = $1 [AND <key2> = $2]` on
/// a connection from the backend's `acquire`: the row, if any. The lookup
/// by key every aggregate has; `$columns` names the row's column-list
/// macro, which must be in scope, as must [`backend::SqlBackend`].
macro_rules! fetch_optional_by {
    (
        $store:expr,
        $row:ty,
        $columns:ident,
        $table:literal,
        $key:literal = $value:expr
        $(, $key2:literal = $value2:expr)?
    ) => {
        sqlx::query_as::<_, $row>(concat!(
            "SELECT ",
            $columns!(),
            " FROM ",
            $table,
            " WHERE ",
            $key,
            " = $1"
            $(, " AND ", $key2, " = $2")?
        ))
        .bind($value)
        $(.bind($value2))?
        .fetch_optional(&mut *$store.acquire().await?)
        .await?
    };
}
pub(crate) use fetch_optional_by;
