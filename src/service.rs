//! The use cases the gRPC handlers call: each composes the domain's decisions
//! with the store's reads and writes. Handlers stay thin (validate, call,
//! convert) and this layer stays free of protobuf.

use std::sync::Arc;

use crate::domain::clock::Clock;
use crate::domain::intake;
use crate::domain::policy::Policy;
use crate::domain::ticket::{Account, AccountUpdate, Ticket, TicketRequest};
use crate::error::{Error, Result};
use crate::store::{Inserted, Store, TicketFilter, TicketKey};

#[derive(Clone)]
pub struct Service {
    store: Arc<dyn Store>,
    policy: Arc<Policy>,
    clock: Arc<dyn Clock>,
}

/// What an account needs on creation; timestamps come from the clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub id: String,
    pub display_name: String,
    pub plan: crate::domain::Plan,
}

impl Service {
    pub fn new(store: Arc<dyn Store>, policy: Arc<Policy>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            policy,
            clock,
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
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
        self.store.update_account(id, &update, now).await
    }

    pub async fn list_accounts(&self, after_id: Option<&str>, limit: i64) -> Result<Vec<Account>> {
        self.store.list_accounts(after_id, limit).await
    }

    /// Receives a ticket. With a request id, a retry of the same request
    /// returns the stored ticket (even if the account's plan has changed
    /// since) and a different request under that id is refused.
    pub async fn create_ticket(&self, request: TicketRequest) -> Result<Ticket> {
        let account = self.store.get_account(&request.account_id).await?;
        let ticket =
            match intake::receive(&self.policy, &account, request.clone(), self.clock.now()) {
                Ok(ticket) => ticket,
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
        match self.store.insert_ticket(&ticket).await? {
            Inserted::New(stored) => {
                tracing::info!(
                    ticket = stored.number,
                    account = %stored.account_id,
                    channel = %stored.channel(),
                    priority = %stored.decision.priority,
                    "ticket received"
                );
                Ok(stored)
            }
            Inserted::Existing(existing) => same_request(existing, &request),
        }
    }

    pub async fn get_ticket(&self, key: TicketKey) -> Result<Ticket> {
        self.store.get_ticket(key).await
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
