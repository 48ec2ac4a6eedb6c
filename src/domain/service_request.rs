//! Professional-services requests: training, consulting, branding,
//! implementation, custom solutions, development. Routed apart from support
//! tickets, in their own queue with their own statuses, and with no response
//! target unless the policy gives one.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::policy::named_enum;

named_enum!(
    /// What the customer asks professional services for.
    ServiceKind {
        Training => "training",
        Consulting => "consulting",
        Branding => "branding",
        Implementation => "implementation",
        CustomSolution => "custom_solution",
        Development => "development",
    }
);

named_enum!(
    /// Where a request stands in the professional-services queue.
    ServiceRequestStatus {
        Submitted => "submitted",
        InReview => "in_review",
        Scheduled => "scheduled",
        Completed => "completed",
        Declined => "declined",
    }
);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRequest {
    pub id: Uuid,
    /// Assigned by the store.
    pub number: i64,
    pub account_id: String,
    pub kind: ServiceKind,
    pub summary: String,
    pub details: String,
    pub contact_email: String,
    pub status: ServiceRequestStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub request_id: Option<String>,
    pub version: i64,
}

/// What a caller submits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewServiceRequest {
    pub account_id: String,
    pub kind: ServiceKind,
    pub summary: String,
    pub details: String,
    pub contact_email: String,
    pub request_id: Option<String>,
}

/// A status the request's current status does not lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IllegalServiceTransition {
    pub from: ServiceRequestStatus,
    pub to: ServiceRequestStatus,
}

impl ServiceRequest {
    pub fn submit(new: NewServiceRequest, now: DateTime<Utc>) -> Self {
        Self {
            id: Uuid::new_v4(),
            number: 0,
            account_id: new.account_id,
            kind: new.kind,
            summary: new.summary,
            details: new.details,
            contact_email: new.contact_email,
            status: ServiceRequestStatus::Submitted,
            created_at: now,
            updated_at: now,
            request_id: new.request_id,
            version: 1,
        }
    }

    /// True when `new` asks for this very request (an idempotent retry).
    pub fn was_requested_by(&self, new: &NewServiceRequest) -> bool {
        self.account_id == new.account_id
            && self.kind == new.kind
            && self.summary == new.summary
            && self.details == new.details
            && self.contact_email == new.contact_email
            && self.request_id == new.request_id
    }

    /// Moves the request along its queue: SUBMITTED → IN_REVIEW → SCHEDULED →
    /// COMPLETED, or DECLINED from any open status. Setting the current
    /// status again changes nothing.
    pub fn move_to(
        &self,
        to: ServiceRequestStatus,
        now: DateTime<Utc>,
    ) -> Result<Option<ServiceRequest>, IllegalServiceTransition> {
        use ServiceRequestStatus::*;
        if self.status == to {
            return Ok(None);
        }
        let allowed = matches!(
            (self.status, to),
            (Submitted, InReview)
                | (InReview, Scheduled)
                | (Scheduled, Completed)
                | (Submitted | InReview | Scheduled, Declined)
        );
        if !allowed {
            return Err(IllegalServiceTransition {
                from: self.status,
                to,
            });
        }
        Ok(Some(ServiceRequest {
            status: to,
            updated_at: now,
            ..self.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ServiceRequest {
        ServiceRequest::submit(
            NewServiceRequest {
                account_id: "acme".into(),
                kind: ServiceKind::Training,
                summary: "Webinar training for 40 hosts".into(),
                details: String::new(),
                contact_email: "ana@example.com".into(),
                request_id: None,
            },
            Utc::now(),
        )
    }

    #[test]
    fn the_queue_allows_exactly_the_documented_moves() {
        use ServiceRequestStatus::*;
        let allowed = [
            (Submitted, InReview),
            (InReview, Scheduled),
            (Scheduled, Completed),
            (Submitted, Declined),
            (InReview, Declined),
            (Scheduled, Declined),
        ];
        for from in ServiceRequestStatus::ALL {
            for to in ServiceRequestStatus::ALL {
                let r = ServiceRequest {
                    status: *from,
                    ..request()
                };
                let result = r.move_to(*to, Utc::now());
                if from == to {
                    assert_eq!(result, Ok(None), "{from} → {to}");
                } else {
                    assert_eq!(
                        result.is_ok(),
                        allowed.contains(&(*from, *to)),
                        "{from} → {to}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_new_request_is_submitted() {
        assert_eq!(request().status, ServiceRequestStatus::Submitted);
    }
}
