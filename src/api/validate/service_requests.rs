//! Professional-services requests: creating, naming, listing and moving
//! them.

use super::limits::{
    MAX_DESCRIPTION_CHARS, MAX_EMAIL_CHARS, MAX_NUMBER_DIGITS, MAX_REQUEST_ID_CHARS,
    MAX_SUBJECT_CHARS,
};
use super::names::{account_from_name, optional_account};
use super::{Violations, is_email, is_request_id, page_size, quoted};
use crate::api::convert::{service_kind_from_proto, service_status_from_proto};
use crate::domain::listing::ServiceRequestFilter;
use crate::domain::service_request::{NewServiceRequest, ServiceRequestStatus};
use crate::error::{Error, Result};
use crate::proto::pb;

pub fn create_service_request(
    request: pb::CreateServiceRequestRequest,
) -> Result<NewServiceRequest> {
    let mut v = Violations::default();
    let account_id = account_from_name(&mut v, "account", &request.account);
    let kind = v.required_enum("kind", request.kind, service_kind_from_proto);
    let summary = v.required("summary", request.summary, MAX_SUBJECT_CHARS);
    let details = v
        .optional("details", request.details, MAX_DESCRIPTION_CHARS)
        .unwrap_or_default();
    let contact_email = v.required("contact_email", request.contact_email, MAX_EMAIL_CHARS);
    if !contact_email.is_empty() && !is_email(&contact_email) {
        v.add("contact_email", "is not an e-mail address");
    }
    let request_id = v.optional("request_id", request.request_id, MAX_REQUEST_ID_CHARS);
    if request_id.as_deref().is_some_and(|id| !is_request_id(id)) {
        v.add("request_id", "may hold only letters, digits and - _ . :");
    }
    v.into_result()?;
    kind.map(|kind| NewServiceRequest {
        account_id,
        kind,
        summary,
        details,
        contact_email,
        request_id,
    })
    .ok_or_else(|| Error::Internal("validation let a bad request through".into()))
}

/// `serviceRequests/{number}` → number.
pub fn service_request_name(field: &str, name: &str) -> Result<i64> {
    name.strip_prefix("serviceRequests/")
        .filter(|n| {
            !n.is_empty() && n.len() <= MAX_NUMBER_DIGITS && n.bytes().all(|b| b.is_ascii_digit())
        })
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!("must be serviceRequests/{{number}}; got {}", quoted(name)),
            )
        })
}

pub struct ServiceRequestListing {
    pub filter: ServiceRequestFilter,
    pub page_size: i64,
}

pub fn list_service_requests(
    request: &pb::ListServiceRequestsRequest,
) -> Result<ServiceRequestListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let account_id = optional_account(&mut v, "account", &request.account);
    let filter = ServiceRequestFilter {
        account_id,
        kind: v.filter_enum("kind", request.kind, service_kind_from_proto),
        status: v.filter_enum("status", request.status, service_status_from_proto),
    };
    v.into_result()?;
    Ok(ServiceRequestListing { filter, page_size })
}

pub fn update_service_request_status(
    request: &pb::UpdateServiceRequestStatusRequest,
) -> Result<(i64, ServiceRequestStatus)> {
    let mut v = Violations::default();
    let number = match service_request_name("name", &request.name) {
        Ok(number) => Some(number),
        Err(Error::InvalidArgument(violations)) => {
            v.append(violations);
            None
        }
        Err(_) => None,
    };
    let status = v.required_enum("status", request.status, service_status_from_proto);
    v.into_result()?;
    number
        .zip(status)
        .ok_or_else(|| Error::Internal("validation let a bad request through".into()))
}
