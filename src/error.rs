//! The service's one error type. Every layer returns it; `api::status` maps it
//! to a gRPC status in one exhaustive match. Database detail stays in
//! `Unavailable`/`Internal` for the logs and never reaches a client.

use crate::domain::policy::{Channel, ChannelNotInPlan, Plan};

/// A reused request id's message, so the log and the client read the same words.
pub fn request_id_reused(request_id: &str) -> String {
    format!("request_id {request_id:?} was already used for a different ticket")
}

/// One bad field in a request, named by its path in the request message
/// (e.g. `phone_call.caller_number`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

impl FieldViolation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("invalid request: {} bad field(s)", .0.len())]
    InvalidArgument(Vec<FieldViolation>),

    #[error("{resource} {name} not found")]
    NotFound {
        resource: &'static str,
        name: String,
    },

    #[error("{resource} {name} already exists")]
    AlreadyExists {
        resource: &'static str,
        name: String,
    },

    #[error("plan {plan} does not include the {channel} channel")]
    ChannelNotInPlan {
        plan: Plan,
        channel: Channel,
        allowed: Vec<Channel>,
    },

    #[error("{}", request_id_reused(.request_id))]
    RequestIdReused { request_id: String },

    #[error("cannot {action} a ticket that is {from}")]
    IllegalTransition {
        action: &'static str,
        from: crate::domain::ticket::TicketStatus,
    },

    #[error("a service request that is {from} cannot become {to}")]
    IllegalServiceTransition {
        from: crate::domain::service_request::ServiceRequestStatus,
        to: crate::domain::service_request::ServiceRequestStatus,
    },

    #[error("the policy does not offer {kind}")]
    ServiceNotOffered {
        kind: crate::domain::service_request::ServiceKind,
    },

    #[error("the survey was already answered")]
    SurveyAlreadyAnswered,

    /// What the request read (a ticket, a service request, an account's
    /// plan) changed before its write; the write was not made.
    #[error("the record changed concurrently")]
    Conflict,

    /// A policy activation expected version `expected` to be active, but
    /// version `active` was activated meanwhile; nothing was written.
    #[error(
        "policy version {expected} is no longer the active one: version {active} was activated meanwhile"
    )]
    PolicyVersionRaced { expected: i64, active: i64 },

    /// A watch stream's client left its buffer full for too long; it
    /// resumes from the last cursor it received (`resume_cursor`, the last
    /// one queued).
    #[error("the watcher stopped taking updates")]
    WatchConsumerTooSlow { resume_cursor: String },

    /// The server already has its maximum number of watch streams.
    #[error("the server has its maximum of {limit} watch streams")]
    WatchLimitReached { limit: usize },

    /// More open tickets match a watch than one snapshot holds.
    #[error("more than {limit} open tickets match the watch")]
    SnapshotTooLarge { limit: usize },

    /// The server is stopping; a watcher resumes elsewhere from its cursor.
    #[error("the server is shutting down")]
    ShuttingDown { resume_cursor: Option<String> },

    /// No usable credential came with the call.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),

    /// The caller's credential does not grant what the call needs.
    #[error("permission denied: needs scope {}", .0.scope)]
    PermissionDenied(crate::domain::access::Denied),

    /// The caller's credential spent its rate limit.
    #[error("rate limited; retry after {retry_after:?}")]
    RateLimited { retry_after: std::time::Duration },

    /// The server has as many calls in flight as it takes; shed at once
    /// rather than queued.
    #[error("server overloaded")]
    Overloaded,

    /// One credential has as many calls in flight as it may, so that it
    /// cannot take every slot of `Overloaded` from the others.
    #[error("the credential has its maximum of {limit} calls in flight")]
    CredentialBusy { limit: usize },

    /// The call's deadline (the client's `grpc-timeout` or the server's
    /// request timeout, whichever is shorter) passed before it was answered.
    /// Work already handed to the store may still complete.
    #[error("deadline of {timeout:?} exceeded")]
    DeadlineExceeded { timeout: std::time::Duration },

    /// The request body is not exactly one well-formed gRPC message frame.
    #[error("malformed request: {0}")]
    MalformedRequest(&'static str),

    /// The request's message is larger than the server decodes; refused from
    /// its length prefix, before it is read.
    #[error("request message of {size} bytes is over the {limit}-byte limit")]
    MessageTooLarge { size: usize, limit: usize },

    /// The request is not gRPC with protobuf messages.
    #[error("unsupported content-type {content_type:?}")]
    UnsupportedContentType { content_type: String },

    /// The database could not be reached or timed out; worth retrying.
    #[error("storage unavailable: {0}")]
    Unavailable(String),

    /// A bug or an unexpected database answer; not worth retrying.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(vec![FieldViolation::new(field, description)])
    }
}

impl From<crate::domain::lifecycle::IllegalTransition> for Error {
    fn from(illegal: crate::domain::lifecycle::IllegalTransition) -> Self {
        Self::IllegalTransition {
            action: illegal.action,
            from: illegal.from,
        }
    }
}

impl From<crate::domain::service_request::IllegalServiceTransition> for Error {
    fn from(illegal: crate::domain::service_request::IllegalServiceTransition) -> Self {
        Self::IllegalServiceTransition {
            from: illegal.from,
            to: illegal.to,
        }
    }
}

impl From<ChannelNotInPlan> for Error {
    fn from(refusal: ChannelNotInPlan) -> Self {
        Self::ChannelNotInPlan {
            plan: refusal.plan,
            channel: refusal.channel,
            allowed: refusal.allowed,
        }
    }
}

impl From<sqlx::Error> for Error {
    /// Classifies a database error that the storage code did not expect.
    /// Expected ones (unique violations that mean "already exists") are
    /// handled where they happen, so they can name the resource.
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => Self::Unavailable(err.to_string()),
            sqlx::Error::Database(db) if db.code().is_some_and(|c| is_unavailable_code(&c)) => {
                Self::Unavailable(err.to_string())
            }
            _ => Self::Internal(err.to_string()),
        }
    }
}

/// Codes that mean "the database cannot serve right now" rather than "this
/// request is wrong". PostgreSQL SQLSTATEs: connection exceptions (08),
/// insufficient resources (53), operator intervention such as shutdown or
/// "cannot connect now" (57P0x), a database that refuses connections (55000,
/// e.g. ALLOW_CONNECTIONS false during maintenance) or is missing (3D000).
/// SQLite result codes: BUSY (5) and LOCKED (6) with their extended forms,
/// i.e. the write lock was not free within the busy timeout.
fn is_unavailable_code(code: &str) -> bool {
    matches!(code, "5" | "6" | "261" | "517" | "262")
        || code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P0")
        || code == "55000"
        || code == "3D000"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_capacity_codes_are_unavailable_others_are_not() {
        for code in [
            "08006", "08001", "53300", "57P01", "57P03", "55000", "3D000",
        ] {
            assert!(is_unavailable_code(code), "{code}");
        }
        for code in ["23505", "42P01", "22001", "40001", "2067", "19"] {
            assert!(!is_unavailable_code(code), "{code}");
        }
    }

    #[test]
    fn pool_timeouts_are_unavailable() {
        assert!(matches!(
            Error::from(sqlx::Error::PoolTimedOut),
            Error::Unavailable(_)
        ));
        assert!(matches!(
            Error::from(sqlx::Error::RowNotFound),
            Error::Internal(_)
        ));
    }
}
