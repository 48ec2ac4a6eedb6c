//! Activated policy documents. Activating a document makes it an immutable,
//! numbered version (1, 2, …); the highest number is the active one. Going
//! back to an earlier policy is activating its document again, as a new
//! number, so the history says who went back, when and why.

use chrono::{DateTime, Utc};

/// One activated document, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub number: i64,
    /// The document text as activated.
    pub document: String,
    /// The document's own `version` label.
    pub label: String,
    pub activated_by: String,
    pub activated_at: DateTime<Utc>,
    pub note: String,
}

/// Who activates the version the server inserts at first start.
pub const SEED_ACTIVATED_BY: &str = "ticketd";
/// The note of that version.
pub const SEED_NOTE: &str = "the published policy";
