//! Accounts: the SQL both backends run for
//! [`AccountStore`](crate::store::AccountStore).

/// Implements [`AccountStore`] for a backend; see `sql` for why a macro.
///
/// [`AccountStore`]: crate::store::AccountStore
macro_rules! impl_account_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;
            use chrono::{DateTime, Utc};

            use $crate::domain::policy::Plan;
            use $crate::domain::ticket::{Account, AccountUpdate};
            use $crate::error::{Error, Result};
            use $crate::store::account_not_found;
            use $crate::store::sql::backend::SqlBackend;
            use $crate::store::sql::rows::{AccountRow, account_columns};

            #[async_trait]
            impl $crate::store::AccountStore for $store {
                async fn create_account(&self, account: &Account) -> Result<Account> {
                    let result = sqlx::query_as::<_, AccountRow>(concat!(
                        "INSERT INTO accounts (",
                        account_columns!(),
                        ") VALUES ($1, $2, $3, $4, $5) RETURNING ",
                        account_columns!()
                    ))
                    .bind(&account.id)
                    .bind(&account.display_name)
                    .bind(account.plan.as_str())
                    .bind(account.create_time)
                    .bind(account.update_time)
                    .fetch_one(&mut *self.acquire().await?)
                    .await;
                    match result {
                        Ok(row) => row.try_into(),
                        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                            Err(Error::AlreadyExists {
                                resource: "account",
                                name: format!("accounts/{}", account.id),
                            })
                        }
                        Err(err) => Err(err.into()),
                    }
                }

                async fn get_account(&self, id: &str) -> Result<Account> {
                    self.read_account(id).await
                }

                async fn update_account(
                    &self,
                    id: &str,
                    update: &AccountUpdate,
                    now: DateTime<Utc>,
                ) -> Result<Account> {
                    sqlx::query_as::<_, AccountRow>(concat!(
                        "UPDATE accounts SET display_name = COALESCE($2, display_name), ",
                        "plan = COALESCE($3, plan), update_time = $4 WHERE id = $1 RETURNING ",
                        account_columns!()
                    ))
                    .bind(id)
                    .bind(update.display_name.as_deref())
                    .bind(update.plan.map(Plan::as_str))
                    .bind(now)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .ok_or_else(|| account_not_found(id))?
                    .try_into()
                }

                async fn list_accounts(
                    &self,
                    after_id: Option<&str>,
                    limit: i64,
                ) -> Result<Vec<Account>> {
                    let query = sqlx::query_as::<_, AccountRow>(concat!(
                        "SELECT ",
                        account_columns!(),
                        " FROM accounts WHERE id > $1 ORDER BY id LIMIT $2"
                    ))
                    .bind(after_id.unwrap_or(""))
                    .bind(limit);
                    self.fetch_all_into(query).await
                }
            }
        };
    };
}
pub(crate) use impl_account_store;
