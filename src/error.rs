//! The service's one error type. Every layer returns it; `api::status` maps it
//! to a gRPC status in one exhaustive match. Database detail stays in
//! `Unavailable`/`Internal` for the logs and never reaches a client.

use crate::domain::policy::{Channel, ChannelNotInPlan, Plan};

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

#[derive(Debug, thiserror::Error)]
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

    #[error("request_id {request_id} was already used for a different ticket")]
    RequestIdReused { request_id: String },

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
            sqlx::Error::Database(db)
                if db.code().is_some_and(|c| {
                    // 08: connection exception; 57P0x: server shutting down;
                    // 53: insufficient resources.
                    c.starts_with("08") || c.starts_with("57P0") || c.starts_with("53")
                }) =>
            {
                Self::Unavailable(err.to_string())
            }
            _ => Self::Internal(err.to_string()),
        }
    }
}
