//! The use cases the gRPC handlers call: each composes the domain's decisions
//! with the store's reads and writes. Handlers stay thin (validate, call,
//! convert) and this layer stays free of protobuf.

mod policies;
mod sweeper_alarm;
mod writes;

use std::sync::Arc;

use uuid::Uuid;

pub use policies::{Policies, Versioned, seed as seed_policy};
pub use sweeper_alarm::SweeperAlarm;
pub use writes::{LogWritten, TicketWriter};

use crate::account_cache::AccountCache;
use crate::domain::clock::Clock;
use crate::domain::compliance::{self, ComplianceRow};
use crate::domain::intake;
use crate::domain::lifecycle::{self, Change};
use crate::domain::policy::Policy;
use crate::domain::service_request::{NewServiceRequest, ServiceRequest, ServiceRequestStatus};
use crate::domain::survey::{Rating, Survey};
use crate::domain::ticket::{
    Account, AccountUpdate, EventKind, Ticket, TicketEvent, TicketRequest,
};
use crate::error::{Error, Result};
// Callers name these by their old path; they are domain values.
pub use crate::domain::lifecycle::Action;
pub use crate::domain::ticket::NewAccount;
use crate::store::{
    DeadlineCursor, DeadlineFilter, Inserted, ServiceRequestFilter, Store, TicketFilter, TicketKey,
};

#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    /// The active policy version, and those earlier tickets were received
    /// under.
    policies: Arc<Policies>,
    clock: Arc<dyn Clock>,
    /// Every ticket and event write goes through here.
    writer: TicketWriter,
    /// Accounts CreateTicket has read, so most tickets cost one statement.
    accounts: Arc<AccountCache>,
}

/// Attempts at an optimistic update before answering ABORTED.
const MAX_ATTEMPTS: usize = 5;

impl Service {
    pub fn new(store: Arc<dyn Store>, policies: Arc<Policies>, clock: Arc<dyn Clock>) -> Self {
        Self {
            writer: TicketWriter::new(store.clone()),
            store,
            policies,
            clock,
            accounts: Arc::new(AccountCache::new(0)),
        }
    }

    /// Keeps up to `capacity` accounts for CreateTicket (0: none).
    pub fn with_account_cache(mut self, capacity: usize) -> Self {
        self.accounts = Arc::new(AccountCache::new(capacity));
        self
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The owner of ticket writes, for the SLA sweeper and the watch hub.
    pub fn writer(&self) -> &TicketWriter {
        &self.writer
    }

    /// The active policy version (GetPolicy's answer) and the earlier ones.
    pub fn policies(&self) -> &Arc<Policies> {
        &self.policies
    }

    /// The active policy, as of the last refresh.
    pub fn policy(&self) -> Arc<Policy> {
        self.policies.active().policy
    }

    pub async fn create_account(&self, new: NewAccount) -> Result<Account> {
        let now = intake::receipt_time(self.clock.now());
        self.store
            .create_account(&Account {
                id: new.id,
                display_name: new.display_name,
                plan: new.plan,
                create_time: now,
                update_time: now,
            })
            .await
    }

    pub async fn get_account(&self, id: &str) -> Result<Account> {
        self.store.get_account(id).await
    }

    pub async fn update_account(&self, id: &str, update: AccountUpdate) -> Result<Account> {
        let now = intake::receipt_time(self.clock.now());
        let result = self.store.update_account(id, &update, now).await;
        // Other replicas learn of a new plan when a write is refused; this
        // one need not.
        self.accounts.forget(id);
        result
    }

    pub async fn list_accounts(&self, after_id: Option<&str>, limit: i64) -> Result<Vec<Account>> {
        self.store.list_accounts(after_id, limit).await
    }

    /// Receives a ticket. With a request id, a retry of the same request
    /// returns the stored ticket (even if the account's plan has changed
    /// since) and a different request under that id is refused.
    ///
    /// The plan usually comes from the account cache. The store writes the
    /// ticket only if the account is still on that plan, so a stale entry
    /// costs a fresh read and a second decision, never a wrong deadline; a
    /// refusal is likewise only given on a fresh read.
    ///
    /// The whole request is decided under `policy`, the one snapshot of the
    /// active version the caller took (and validated the request against),
    /// and the ticket records its number: a version activated meanwhile
    /// applies to the next request, never to part of this one.
    pub async fn create_ticket(
        &self,
        policy: &Versioned,
        request: TicketRequest,
    ) -> Result<Ticket> {
        let mut cached = self.accounts.get(&request.account_id);
        for _ in 0..MAX_ATTEMPTS {
            let from_cache = cached.is_some();
            let account = match cached.take() {
                Some(account) => account,
                None => {
                    // On PostgreSQL the read (and below, the insert) is made
                    // together with those of other calls in flight
                    // (store::intake_batch).
                    let account = self.store.get_account(&request.account_id).await?;
                    self.accounts.remember(&account);
                    account
                }
            };
            let ticket = match intake::receive(
                &policy.policy,
                policy.number,
                &account,
                request.clone(),
                self.clock.now(),
            ) {
                Ok(ticket) => ticket,
                Err(_) if from_cache => {
                    self.accounts.forget(&account.id);
                    continue;
                }
                Err(refusal) => {
                    if let Some(request_id) = &request.request_id
                        && let Some(existing) = self
                            .store
                            .find_ticket_by_request_id(&request.account_id, request_id)
                            .await?
                    {
                        return same_request(existing, &request);
                    }
                    return Err(refusal.into());
                }
            };
            let received = TicketEvent {
                to_status: Some(ticket.status),
                to_priority: Some(ticket.decision.priority),
                to_due_at: Some(ticket.response_due_at),
                ..TicketEvent::new(
                    &ticket,
                    EventKind::Received,
                    &ticket.account_id,
                    ticket.received_at,
                )
            };
            match self.writer.insert(&ticket, &[received]).await {
                Ok(Inserted::New(stored)) => {
                    tracing::info!(
                        ticket = stored.number,
                        account = %stored.account_id,
                        channel = %stored.channel(),
                        priority = %stored.decision.priority,
                        "ticket received"
                    );
                    return Ok(stored);
                }
                Ok(Inserted::Existing(existing)) => return same_request(existing, &request),
                // The account's plan changed since it was read.
                Err(Error::Conflict) => self.accounts.forget(&account.id),
                Err(err) => return Err(err),
            }
        }
        Err(Error::Conflict)
    }

    pub async fn get_ticket(&self, key: TicketKey) -> Result<Ticket> {
        self.store.get_ticket(key).await
    }

    /// Applies an agent's action: read, let the domain decide, write if the
    /// ticket has not changed meanwhile; on a concurrent change, start over.
    /// Returns the ticket and the survey the action issued, if any.
    pub async fn act(&self, key: TicketKey, action: &Action) -> Result<(Ticket, Option<Survey>)> {
        for _ in 0..MAX_ATTEMPTS {
            let ticket = self.store.get_ticket(key).await?;
            let change = self.decide(&ticket, action).await?;
            if change.is_noop() {
                return Ok((change.ticket, None));
            }
            match self
                .writer
                .update(
                    &change.ticket,
                    ticket.version,
                    &change.events,
                    change.survey.as_ref(),
                )
                .await
            {
                Ok(stored) => {
                    return Ok((stored, change.survey));
                }
                Err(Error::Conflict) => continue,
                Err(err) => return Err(err),
            }
        }
        Err(Error::Conflict)
    }

    /// What `action` does to `ticket`. A decision that needs the policy
    /// uses the version the ticket was received under, never the active one.
    async fn decide(&self, ticket: &Ticket, action: &Action) -> Result<Change> {
        let now = self.clock.now();
        let change = match action {
            Action::Acknowledge { responder, method } => {
                lifecycle::acknowledge(ticket, responder, *method, now)
            }
            Action::SetStatus { to, actor, note } => {
                lifecycle::set_work_status(ticket, *to, actor, note.clone(), now)
            }
            Action::Resolve { actor, note } => lifecycle::resolve(ticket, actor, note.clone(), now),
            Action::Reopen { actor, reason } => {
                lifecycle::reopen(ticket, actor, reason.clone(), now)
            }
            Action::Close { actor } => lifecycle::close(ticket, actor, now),
            Action::Reprioritize {
                priority,
                actor,
                reason,
            } => {
                let policy = self.policies.version(ticket.policy_version_number).await?;
                lifecycle::reprioritize(ticket, &policy, *priority, actor, reason, now)
            }
        }?;
        Ok(change)
    }

    pub async fn answer_survey(
        &self,
        token: &str,
        rating: Rating,
        comment: Option<String>,
    ) -> Result<Survey> {
        let survey = self
            .store
            .find_survey(token)
            .await?
            .ok_or_else(|| Error::NotFound {
                resource: "survey",
                name: "the survey with this token".into(),
            })?;
        let answered = survey
            .answer(rating, comment, intake::receipt_time(self.clock.now()))
            .map_err(|_| Error::SurveyAlreadyAnswered)?;
        if self.store.answer_survey(&answered).await? {
            Ok(answered)
        } else {
            Err(Error::SurveyAlreadyAnswered)
        }
    }

    pub async fn list_surveys(
        &self,
        ticket: Option<TicketKey>,
        answered_only: bool,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Survey>> {
        let ticket_id = match ticket {
            Some(key) => Some(self.store.get_ticket(key).await?.id),
            None => None,
        };
        self.store
            .list_surveys(ticket_id, answered_only, after_id, limit)
            .await
    }

    /// Queues a professional-services request; same idempotency rules as tickets.
    pub async fn create_service_request(&self, new: NewServiceRequest) -> Result<ServiceRequest> {
        if !self.policy().professional_services().contains(&new.kind) {
            return Err(Error::ServiceNotOffered { kind: new.kind });
        }
        self.store.get_account(&new.account_id).await?;
        let request = ServiceRequest::submit(new.clone(), intake::receipt_time(self.clock.now()));
        match self.store.insert_service_request(&request).await? {
            Inserted::New(stored) => Ok(stored),
            Inserted::Existing(existing) if existing.was_requested_by(&new) => Ok(existing),
            Inserted::Existing(_) => Err(Error::RequestIdReused {
                request_id: new.request_id.unwrap_or_default(),
            }),
        }
    }

    pub async fn get_service_request(&self, number: i64) -> Result<ServiceRequest> {
        self.store.get_service_request(number).await
    }

    pub async fn list_service_requests(
        &self,
        filter: &ServiceRequestFilter,
        before_number: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ServiceRequest>> {
        self.store
            .list_service_requests(filter, before_number, limit)
            .await
    }

    pub async fn move_service_request(
        &self,
        number: i64,
        to: ServiceRequestStatus,
    ) -> Result<ServiceRequest> {
        for _ in 0..MAX_ATTEMPTS {
            let current = self.store.get_service_request(number).await?;
            let now = intake::receipt_time(self.clock.now());
            let Some(moved) = current.move_to(to, now)? else {
                return Ok(current);
            };
            match self
                .store
                .update_service_request(&moved, current.version)
                .await
            {
                Err(Error::Conflict) => continue,
                result => return result,
            }
        }
        Err(Error::Conflict)
    }

    /// The compliance report for tickets received in `[start, end)`, as of now.
    pub async fn compliance_report(
        &self,
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    ) -> Result<(chrono::DateTime<chrono::Utc>, Vec<ComplianceRow>)> {
        let now = self.clock.now();
        let records = self.store.response_records(start, end).await?;
        let tallies = self.store.survey_tallies(start, end).await?;
        Ok((now, compliance::report(&records, &tallies, now)))
    }

    /// Unanswered tickets by deadline, as of now.
    pub async fn list_tickets_by_deadline(
        &self,
        filter: &DeadlineFilter,
        after: Option<DeadlineCursor>,
        limit: i64,
    ) -> Result<Vec<Ticket>> {
        self.store
            .list_tickets_by_deadline(filter, after, limit)
            .await
    }

    pub async fn list_ticket_events(
        &self,
        key: TicketKey,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<(Uuid, Vec<TicketEvent>)> {
        let id = match key {
            TicketKey::Id(id) => id,
            TicketKey::Number(_) => self.store.get_ticket(key).await?.id,
        };
        let events = self.store.list_ticket_events(id, after_id, limit).await?;
        if events.is_empty() && after_id.is_none() {
            // Every ticket has a RECEIVED event; none means no such ticket.
            self.store.get_ticket(TicketKey::Id(id)).await?;
        }
        Ok((id, events))
    }

    pub async fn list_tickets(
        &self,
        filter: &TicketFilter,
        before_number: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Ticket>> {
        self.store.list_tickets(filter, before_number, limit).await
    }
}

fn same_request(existing: Ticket, request: &TicketRequest) -> Result<Ticket> {
    if existing.was_requested_by(request) {
        Ok(existing)
    } else {
        Err(Error::RequestIdReused {
            request_id: request.request_id.clone().unwrap_or_default(),
        })
    }
}
