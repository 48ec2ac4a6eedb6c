//! Professional-services requests: their row, and the SQL both backends
//! run for [`ServiceRequestStore`](crate::store::ServiceRequestStore).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::parse::parse;
use crate::domain::service_request::{ServiceKind, ServiceRequest, ServiceRequestStatus};
use crate::error::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRequestRow {
    pub id: Uuid,
    pub number: i64,
    pub account_id: String,
    pub kind: String,
    pub summary: String,
    pub details: String,
    pub contact_email: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub version: i64,
}

macro_rules! service_request_columns {
    () => {
        "id, number, account_id, kind, summary, details, contact_email, status, created_at, \
         updated_at, request_id, version"
    };
}
pub(crate) use service_request_columns;

impl TryFrom<ServiceRequestRow> for ServiceRequest {
    type Error = Error;

    fn try_from(row: ServiceRequestRow) -> Result<Self> {
        Ok(ServiceRequest {
            id: row.id,
            number: row.number,
            account_id: row.account_id,
            kind: parse("kind", &row.kind, ServiceKind::parse)?,
            summary: row.summary,
            details: row.details,
            contact_email: row.contact_email,
            status: parse("status", &row.status, ServiceRequestStatus::parse)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            request_id: row.request_id,
            version: row.version,
        })
    }
}

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
            use $crate::store::sql::service_requests::{ServiceRequestRow, service_request_columns};
            use $crate::store::{Inserted, ServiceRequestFilter};
            use $crate::store::sql::backend::SqlBackend;

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
                    sqlx::query_as::<_, ServiceRequestRow>(concat!(
                        "SELECT ",
                        service_request_columns!(),
                        " FROM service_requests WHERE account_id = $1 AND request_id = $2"
                    ))
                    .bind(&request.account_id)
                    .bind(request.request_id.as_deref())
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
                    .ok_or_else(|| Error::Internal("conflicting request id vanished".into()))?
                    .try_into()
                    .map(Inserted::Existing)
                }

                async fn get_service_request(&self, number: i64) -> Result<ServiceRequest> {
                    sqlx::query_as::<_, ServiceRequestRow>(concat!(
                        "SELECT ",
                        service_request_columns!(),
                        " FROM service_requests WHERE number = $1"
                    ))
                    .bind(number)
                    .fetch_optional(&mut *self.acquire().await?)
                    .await?
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
                    if let Some(account_id) = &filter.account_id {
                        query.push(" AND account_id = ").push_bind(account_id.clone());
                    }
                    if let Some(kind) = filter.kind {
                        query.push(" AND kind = ").push_bind(kind.as_str());
                    }
                    if let Some(status) = filter.status {
                        query.push(" AND status = ").push_bind(status.as_str());
                    }
                    if let Some(before) = before_number {
                        query.push(" AND number < ").push_bind(before);
                    }
                    query.push(" ORDER BY number DESC LIMIT ").push_bind(limit);
                    let rows = query
                        .build_query_as::<ServiceRequestRow>()
                        .fetch_all(&mut *self.acquire().await?)
                        .await?;
                    rows.into_iter().map(TryInto::try_into).collect()
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
