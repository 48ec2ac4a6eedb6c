//! Professional-services requests: the SQL both backends run for
//! [`ServiceRequestStore`](crate::store::ServiceRequestStore).

/// Implements [`ServiceRequestStore`] for a backend; see `sql` for why a macro.
///
/// [`ServiceRequestStore`]: crate::store::ServiceRequestStore
macro_rules! impl_service_request_store {
    ($store:ty) => {
        // A const block so the expansion can have its own imports.
        const _: () = {
            use async_trait::async_trait;

            use $crate::domain::service_request::ServiceRequest;
            use $crate::error::{Error, Result};
            use $crate::store::sql::rows::{ServiceRequestRow, service_request_columns};
            use $crate::store::{Inserted, ServiceRequestFilter};
            use $crate::store::sql::backend::SqlBackend;
            use $crate::store::sql::{fetch_optional_by, push_and_equals};

            type Db = <$store as SqlBackend>::Db;

            #[async_trait]
            impl $crate::store::ServiceRequestStore for $store {
                async fn insert_service_request(
                    &self,
                    request: &ServiceRequest,
                ) -> Result<Inserted<ServiceRequest>> {
                    let inserted = sqlx::query_scalar::<_, i64>(concat!(
                        "INSERT INTO service_requests (id, account_id, kind, summary, details, ",
                        "contact_email, status, created_at, updated_at, request_id, version) ",
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ",
                        "ON CONFLICT (account_id, request_id) DO NOTHING RETURNING number"
                    ))
                    .bind(request.id)
                    .bind(&request.account_id)
                    .bind(request.kind.as_str())
                    .bind(&request.summary)
                    .bind(&request.details)
                    .bind(&request.contact_email)
                    .bind(request.status.as_str())
                    .bind(request.created_at)
                    .bind(request.updated_at)
                    .bind(request.request_id.as_deref())
                    .bind(request.version)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?;
                    if let Some(number) = inserted {
                        let mut stored = request.clone();
                        stored.number = number;
                        return Ok(Inserted::New(stored));
                    }
                    fetch_optional_by!(
                        self,
                        ServiceRequestRow,
                        service_request_columns,
                        "service_requests",
                        "account_id" = &request.account_id,
                        "request_id" = request.request_id.as_deref()
                    )
                    .ok_or_else(|| Error::Internal("conflicting request id vanished".into()))?
                    .try_into()
                    .map(Inserted::Existing)
                }

                async fn get_service_request(&self, number: i64) -> Result<ServiceRequest> {
                    fetch_optional_by!(
                        self,
                        ServiceRequestRow,
                        service_request_columns,
                        "service_requests",
                        "number" = number
                    )
                    .ok_or_else(|| Error::NotFound {
                        resource: "service request",
                        name: format!("serviceRequests/{number}"),
                    })?
                    .try_into()
                }

                async fn list_service_requests(
                    &self,
                    filter: &ServiceRequestFilter,
                    before_number: Option<i64>,
                    limit: i64,
                ) -> Result<Vec<ServiceRequest>> {
                    let mut query = sqlx::QueryBuilder::<Db>::new(concat!(
                        "SELECT ",
                        service_request_columns!(),
                        " FROM service_requests WHERE TRUE"
                    ));
                    push_and_equals(&mut query, "account_id", filter.account_id.clone());
                    push_and_equals(&mut query, "kind", filter.kind.map(|k| k.as_str()));
                    push_and_equals(&mut query, "status", filter.status.map(|s| s.as_str()));
                    if let Some(before) = before_number {
                        query.push(" AND number < ").push_bind(before);
                    }
                    query.push(" ORDER BY number DESC LIMIT ").push_bind(limit);
                    self.fetch_all_into(query.build_query_as::<ServiceRequestRow>()).await
                }

                async fn update_service_request(
                    &self,
                    request: &ServiceRequest,
                    expected_version: i64,
                ) -> Result<ServiceRequest> {
                    let version = sqlx::query_scalar::<_, i64>(
                        "UPDATE service_requests SET status = $3, updated_at = $4, \
                         version = version + 1 WHERE id = $1 AND version = $2 RETURNING version",
                    )
                    .bind(request.id)
                    .bind(expected_version)
                    .bind(request.status.as_str())
                    .bind(request.updated_at)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .ok_or(Error::Conflict)?;
                    Ok(ServiceRequest {
                        version,
                        ..request.clone()
                    })
                }
            }
        };
    };
}
pub(crate) use impl_service_request_store;
