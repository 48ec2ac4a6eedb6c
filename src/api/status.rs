//! The one mapping from [`Error`] to a gRPC status (AIP-193): a canonical code,
//! a message a person can act on, and machine-readable details. Storage
//! detail is logged here and never sent.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::convert::{channel_to_proto, plan_to_proto};
use crate::error::Error;

/// The `ErrorInfo.domain` of every error this service defines.
pub const ERROR_DOMAIN: &str = "ticketd.support.v1";

/// `ErrorInfo.reason` values clients can switch on.
pub mod reason {
    pub const CHANNEL_NOT_IN_PLAN: &str = "CHANNEL_NOT_IN_PLAN";
    pub const REQUEST_ID_REUSED: &str = "REQUEST_ID_REUSED";
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        match err {
            Error::InvalidArgument(violations) => {
                let summary = violations
                    .iter()
                    .map(|v| format!("{}: {}", v.field, v.description))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut details = ErrorDetails::new();
                for violation in violations {
                    details.add_bad_request_violation(violation.field, violation.description);
                }
                Status::with_error_details(
                    Code::InvalidArgument,
                    format!("invalid request: {summary}"),
                    details,
                )
            }
            Error::NotFound { resource, name } => Status::with_error_details(
                Code::NotFound,
                format!("{resource} {name} not found"),
                ErrorDetails::with_resource_info(resource, name, "", "not found"),
            ),
            Error::AlreadyExists { resource, name } => Status::with_error_details(
                Code::AlreadyExists,
                format!("{resource} {name} already exists"),
                ErrorDetails::with_resource_info(resource, name, "", "already exists"),
            ),
            Error::ChannelNotInPlan {
                plan,
                channel,
                allowed,
            } => {
                let plan = plan_to_proto(plan).as_str_name();
                let channel = channel_to_proto(channel).as_str_name();
                let allowed = allowed
                    .into_iter()
                    .map(|c| channel_to_proto(c).as_str_name())
                    .collect::<Vec<_>>()
                    .join(",");
                Status::with_error_details(
                    Code::FailedPrecondition,
                    format!("plan {plan} does not include {channel}; channels allowed: {allowed}"),
                    ErrorDetails::with_error_info(
                        reason::CHANNEL_NOT_IN_PLAN,
                        ERROR_DOMAIN,
                        HashMap::from([
                            ("plan".to_owned(), plan.to_owned()),
                            ("channel".to_owned(), channel.to_owned()),
                            ("allowed_channels".to_owned(), allowed),
                        ]),
                    ),
                )
            }
            Error::RequestIdReused { request_id } => Status::with_error_details(
                Code::AlreadyExists,
                format!("request_id {request_id:?} was already used for a different ticket"),
                ErrorDetails::with_error_info(
                    reason::REQUEST_ID_REUSED,
                    ERROR_DOMAIN,
                    HashMap::from([("request_id".to_owned(), request_id)]),
                ),
            ),
            Error::Unavailable(detail) => {
                tracing::warn!(%detail, "storage unavailable");
                Status::unavailable("storage is temporarily unavailable; retry with backoff")
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Status::internal("internal error")
            }
        }
    }
}
