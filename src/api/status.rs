//! The one mapping from [`Error`] to a gRPC status (AIP-193): a canonical code,
//! a message a person can act on, and machine-readable details. Every status
//! carries an `ErrorInfo` whose reason a program can switch on. Storage detail
//! is logged here and never sent.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use super::convert::{
    channel_to_proto, plan_to_proto, service_kind_to_proto, service_status_to_proto,
    status_to_proto,
};
use crate::error::{Error, request_id_reused};

/// The `ErrorInfo.domain` of every error this service defines.
pub const ERROR_DOMAIN: &str = "ticketd.support.v1";

/// `ErrorInfo.reason` values clients can switch on.
pub mod reason {
    pub const INVALID_FIELDS: &str = "INVALID_FIELDS";
    pub const RESOURCE_NOT_FOUND: &str = "RESOURCE_NOT_FOUND";
    pub const RESOURCE_ALREADY_EXISTS: &str = "RESOURCE_ALREADY_EXISTS";
    pub const CHANNEL_NOT_IN_PLAN: &str = "CHANNEL_NOT_IN_PLAN";
    pub const REQUEST_ID_REUSED: &str = "REQUEST_ID_REUSED";
    pub const ILLEGAL_TRANSITION: &str = "ILLEGAL_TRANSITION";
    pub const CONCURRENT_UPDATE: &str = "CONCURRENT_UPDATE";
    pub const POLICY_VERSION_RACED: &str = "POLICY_VERSION_RACED";
    pub const SURVEY_ALREADY_ANSWERED: &str = "SURVEY_ALREADY_ANSWERED";
    pub const SERVICE_NOT_OFFERED: &str = "SERVICE_NOT_OFFERED";
    pub const STORAGE_UNAVAILABLE: &str = "STORAGE_UNAVAILABLE";
    pub const WATCH_CONSUMER_TOO_SLOW: &str = "WATCH_CONSUMER_TOO_SLOW";
    pub const WATCH_LIMIT_REACHED: &str = "WATCH_LIMIT_REACHED";
    pub const SNAPSHOT_TOO_LARGE: &str = "SNAPSHOT_TOO_LARGE";
    pub const SERVER_SHUTTING_DOWN: &str = "SERVER_SHUTTING_DOWN";
    pub const INTERNAL: &str = "INTERNAL";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const MISSING_SCOPE: &str = "MISSING_SCOPE";
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const OVERLOADED: &str = "OVERLOADED";
    pub const CREDENTIAL_IN_FLIGHT_LIMIT: &str = "CREDENTIAL_IN_FLIGHT_LIMIT";
    pub const DEADLINE_EXCEEDED: &str = "DEADLINE_EXCEEDED";
    pub const MALFORMED_REQUEST: &str = "MALFORMED_REQUEST";
    pub const MESSAGE_TOO_LARGE: &str = "MESSAGE_TOO_LARGE";
    pub const UNSUPPORTED_CONTENT_TYPE: &str = "UNSUPPORTED_CONTENT_TYPE";
}

fn info<const N: usize>(reason: &str, metadata: [(&str, String); N]) -> ErrorDetails {
    ErrorDetails::with_error_info(
        reason,
        ERROR_DOMAIN,
        metadata
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect::<HashMap<_, _>>(),
    )
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
                let fields = violations
                    .iter()
                    .map(|v| v.field.as_str())
                    .collect::<Vec<_>>()
                    .join(",");
                let mut details = info(reason::INVALID_FIELDS, [("fields", fields)]);
                for violation in violations {
                    details.add_bad_request_violation(violation.field, violation.description);
                }
                Status::with_error_details(
                    Code::InvalidArgument,
                    format!("invalid request: {summary}"),
                    details,
                )
            }
            Error::NotFound { resource, name } => {
                let mut details = info(
                    reason::RESOURCE_NOT_FOUND,
                    [
                        ("resource_type", resource.to_owned()),
                        ("resource_name", name.clone()),
                    ],
                );
                details.set_resource_info(resource, name.clone(), "", "not found");
                Status::with_error_details(
                    Code::NotFound,
                    format!("{resource} {name} not found"),
                    details,
                )
            }
            Error::AlreadyExists { resource, name } => {
                let mut details = info(
                    reason::RESOURCE_ALREADY_EXISTS,
                    [
                        ("resource_type", resource.to_owned()),
                        ("resource_name", name.clone()),
                    ],
                );
                details.set_resource_info(resource, name.clone(), "", "already exists");
                Status::with_error_details(
                    Code::AlreadyExists,
                    format!("{resource} {name} already exists"),
                    details,
                )
            }
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
                    info(
                        reason::CHANNEL_NOT_IN_PLAN,
                        [
                            ("plan", plan.to_owned()),
                            ("channel", channel.to_owned()),
                            ("allowed_channels", allowed),
                        ],
                    ),
                )
            }
            Error::RequestIdReused { request_id } => Status::with_error_details(
                Code::AlreadyExists,
                request_id_reused(&request_id),
                info(reason::REQUEST_ID_REUSED, [("request_id", request_id)]),
            ),
            Error::IllegalTransition { action, from } => {
                let current = status_to_proto(from).as_str_name();
                Status::with_error_details(
                    Code::FailedPrecondition,
                    format!("cannot {action} a ticket whose status is {current}"),
                    info(
                        reason::ILLEGAL_TRANSITION,
                        [
                            ("current_status", current.to_owned()),
                            ("action", action.to_owned()),
                        ],
                    ),
                )
            }
            Error::IllegalServiceTransition { from, to } => {
                let current = service_status_to_proto(from).as_str_name();
                let wanted = service_status_to_proto(to).as_str_name();
                Status::with_error_details(
                    Code::FailedPrecondition,
                    format!("a service request that is {current} cannot become {wanted}"),
                    info(
                        reason::ILLEGAL_TRANSITION,
                        [
                            ("current_status", current.to_owned()),
                            ("requested_status", wanted.to_owned()),
                        ],
                    ),
                )
            }
            Error::ServiceNotOffered { kind } => {
                let kind = service_kind_to_proto(kind).as_str_name();
                Status::with_error_details(
                    Code::FailedPrecondition,
                    format!("the policy does not offer {kind}"),
                    info(reason::SERVICE_NOT_OFFERED, [("kind", kind.to_owned())]),
                )
            }
            Error::SurveyAlreadyAnswered => Status::with_error_details(
                Code::FailedPrecondition,
                "this survey was already answered; each resolution takes one answer",
                info(reason::SURVEY_ALREADY_ANSWERED, []),
            ),
            Error::Conflict => Status::with_error_details(
                Code::Aborted,
                "what this request read changed before it could be written; retry",
                info(reason::CONCURRENT_UPDATE, []),
            ),
            // Not CONCURRENT_UPDATE: that one is safe to retry blindly; an
            // activation that lost a race is the operator's to review against
            // the version that won.
            Error::PolicyVersionRaced { expected, active } => Status::with_error_details(
                Code::Aborted,
                format!(
                    "policy version {expected} is no longer the active one: version {active} \
                     was activated meanwhile; review it before activating again"
                ),
                info(
                    reason::POLICY_VERSION_RACED,
                    [
                        ("expected_version", expected.to_string()),
                        ("active_version", active.to_string()),
                    ],
                ),
            ),
            Error::WatchConsumerTooSlow { resume_cursor } => Status::with_error_details(
                Code::ResourceExhausted,
                "this stream's client stopped taking updates and the stream was ended; \
                 call again with resume_cursor set to the last cursor received",
                info(
                    reason::WATCH_CONSUMER_TOO_SLOW,
                    [("resume_cursor", resume_cursor)],
                ),
            ),
            Error::WatchLimitReached { limit } => {
                let mut details = info(reason::WATCH_LIMIT_REACHED, [("limit", limit.to_string())]);
                details.set_retry_info(Some(std::time::Duration::from_secs(5)));
                Status::with_error_details(
                    Code::ResourceExhausted,
                    format!(
                        "this server already serves its maximum of {limit} watch streams; retry later or on another replica"
                    ),
                    details,
                )
            }
            Error::SnapshotTooLarge { limit } => Status::with_error_details(
                Code::FailedPrecondition,
                format!("more than {limit} open tickets match; narrow the filters"),
                info(reason::SNAPSHOT_TOO_LARGE, [("limit", limit.to_string())]),
            ),
            Error::ShuttingDown { resume_cursor } => Status::with_error_details(
                Code::Unavailable,
                "the server is shutting down; call again, with resume_cursor set to the last \
                 cursor received",
                info(
                    reason::SERVER_SHUTTING_DOWN,
                    [("resume_cursor", resume_cursor.unwrap_or_default())],
                ),
            ),
            Error::Unauthenticated(why) => Status::with_error_details(
                Code::Unauthenticated,
                why,
                info(reason::UNAUTHENTICATED, []),
            ),
            Error::PermissionDenied(denied) => {
                let scope = denied.scope.as_str();
                let (message, metadata) = match denied.channel {
                    Some(channel) => {
                        let channel = channel_to_proto(channel).as_str_name();
                        (
                            format!("this credential lacks scope {scope} for channel {channel}"),
                            vec![("scope", scope.to_owned()), ("channel", channel.to_owned())],
                        )
                    }
                    None => (
                        format!("this credential lacks scope {scope}"),
                        vec![("scope", scope.to_owned())],
                    ),
                };
                Status::with_error_details(
                    Code::PermissionDenied,
                    message,
                    ErrorDetails::with_error_info(
                        reason::MISSING_SCOPE,
                        ERROR_DOMAIN,
                        metadata
                            .into_iter()
                            .map(|(k, v)| (k.to_owned(), v))
                            .collect::<HashMap<_, _>>(),
                    ),
                )
            }
            Error::RateLimited { retry_after } => {
                // One wait, said three ways that must agree: milliseconds
                // rounded up (a caller that waits what it is told is never
                // early, and never told 0) in the ErrorInfo and RetryInfo,
                // and whole seconds rounded up in HTTP's Retry-After.
                let millis = retry_after.as_nanos().div_ceil(1_000_000).max(1);
                let millis = u64::try_from(millis).unwrap_or(u64::MAX);
                let seconds = millis.div_ceil(1_000);
                let mut details = info(
                    reason::RATE_LIMITED,
                    [("retry_after_ms", millis.to_string())],
                );
                details.set_retry_info(Some(std::time::Duration::from_millis(millis)));
                let mut status = Status::with_error_details(
                    Code::ResourceExhausted,
                    format!("this credential's rate limit is spent; retry after {seconds} s"),
                    details,
                );
                status
                    .metadata_mut()
                    .insert("retry-after", seconds.to_string().parse().expect("digits"));
                status
            }
            Error::Overloaded => {
                let mut details = info(reason::OVERLOADED, []);
                details.set_retry_info(Some(std::time::Duration::from_millis(100)));
                Status::with_error_details(
                    Code::Unavailable,
                    "the server has as many calls in flight as it takes; retry with backoff \
                     or on another replica",
                    details,
                )
            }
            Error::CredentialBusy { limit } => {
                let mut details = info(
                    reason::CREDENTIAL_IN_FLIGHT_LIMIT,
                    [("limit", limit.to_string())],
                );
                details.set_retry_info(Some(std::time::Duration::from_millis(100)));
                Status::with_error_details(
                    Code::ResourceExhausted,
                    format!(
                        "this credential already has its maximum of {limit} calls in flight; \
                         retry with backoff once some have finished"
                    ),
                    details,
                )
            }
            Error::DeadlineExceeded { timeout } => Status::with_error_details(
                Code::DeadlineExceeded,
                format!(
                    "the call was not answered within its deadline of {} ms; its outcome is \
                     unknown (retry a CreateTicket with the same request_id to learn it)",
                    timeout.as_millis()
                ),
                info(
                    reason::DEADLINE_EXCEEDED,
                    [("timeout_ms", timeout.as_millis().to_string())],
                ),
            ),
            Error::MalformedRequest(why) => Status::with_error_details(
                Code::InvalidArgument,
                format!("malformed request: {why}"),
                info(reason::MALFORMED_REQUEST, []),
            ),
            Error::MessageTooLarge { size, limit } => Status::with_error_details(
                Code::OutOfRange,
                format!(
                    "the request message of {size} bytes is too large; the limit is {limit} bytes"
                ),
                info(
                    reason::MESSAGE_TOO_LARGE,
                    [("size", size.to_string()), ("limit", limit.to_string())],
                ),
            ),
            Error::UnsupportedContentType { content_type } => Status::with_error_details(
                Code::InvalidArgument,
                format!(
                    "content-type {content_type:?} is not supported; send application/grpc \
                     (protobuf messages) or gRPC-Web"
                ),
                info(
                    reason::UNSUPPORTED_CONTENT_TYPE,
                    [("content_type", content_type)],
                ),
            ),
            Error::Unavailable(detail) => {
                tracing::warn!(%detail, "storage unavailable");
                let mut details = info(reason::STORAGE_UNAVAILABLE, []);
                details.set_retry_info(Some(std::time::Duration::from_secs(1)));
                Status::with_error_details(
                    Code::Unavailable,
                    "storage is temporarily unavailable; retry with backoff",
                    details,
                )
            }
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Status::with_error_details(
                    Code::Internal,
                    "internal error",
                    info(reason::INTERNAL, []),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate_limited(retry_after: std::time::Duration) -> (String, String, std::time::Duration) {
        let status = Status::from(Error::RateLimited { retry_after });
        let header = status
            .metadata()
            .get("retry-after")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let info = status.get_details_error_info().unwrap();
        let delay = status
            .get_details_retry_info()
            .unwrap()
            .retry_delay
            .unwrap();
        (header, info.metadata["retry_after_ms"].clone(), delay)
    }

    #[test]
    fn a_rate_limit_refusal_states_one_wait_rounded_up_in_all_three_places() {
        use std::time::Duration;
        for (wait, seconds, millis) in [
            (Duration::from_micros(275), "1", 1),
            (Duration::from_nanos(1), "1", 1),
            (Duration::ZERO, "1", 1),
            (Duration::from_micros(999_300), "1", 1_000),
            (Duration::from_millis(1_000), "1", 1_000),
            (Duration::from_micros(1_000_001), "2", 1_001),
            (Duration::from_millis(2_500), "3", 2_500),
        ] {
            let (header, metadata, delay) = rate_limited(wait);
            assert_eq!(header, seconds, "{wait:?}");
            assert_eq!(metadata, millis.to_string(), "{wait:?}");
            assert_eq!(delay, Duration::from_millis(millis), "{wait:?}");
        }
    }
}
