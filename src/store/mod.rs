//! Storage behind one trait. Handlers and the service layer depend on
//! [`Store`]; each backend implements it and passes the same conformance tests.

pub mod postgres;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::policy::{Channel, Priority};
use crate::domain::ticket::{Account, AccountUpdate, Ticket, TicketStatus};
use crate::error::Result;

/// How a ticket is looked up: by resource id or by its human-friendly number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKey {
    Id(Uuid),
    Number(i64),
}

/// ListTickets filters; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TicketFilter {
    pub account_id: Option<String>,
    pub channel: Option<Channel>,
    pub priority: Option<Priority>,
    pub status: Option<TicketStatus>,
}

/// The result of inserting a ticket that carries a request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    /// Stored now; the ticket has its number.
    New(Ticket),
    /// A ticket with the same request id was already stored; nothing was written.
    Existing(Ticket),
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Cheap round trip used by the health check.
    async fn ping(&self) -> Result<()>;

    /// Fails with `AlreadyExists` when the id is taken.
    async fn create_account(&self, account: &Account) -> Result<Account>;
    async fn get_account(&self, id: &str) -> Result<Account>;
    async fn update_account(
        &self,
        id: &str,
        update: &AccountUpdate,
        now: DateTime<Utc>,
    ) -> Result<Account>;
    /// Accounts ordered by id, starting after `after_id`.
    async fn list_accounts(&self, after_id: Option<&str>, limit: i64) -> Result<Vec<Account>>;

    /// Stores a received ticket in one atomic write. When another ticket
    /// already has its request id, returns that one and writes nothing.
    async fn insert_ticket(&self, ticket: &Ticket) -> Result<Inserted>;
    async fn find_ticket_by_request_id(&self, request_id: &str) -> Result<Option<Ticket>>;
    async fn get_ticket(&self, key: TicketKey) -> Result<Ticket>;
    /// Tickets matching `filter`, newest (highest number) first, with numbers
    /// below `before_number`.
    async fn list_tickets(
        &self,
        filter: &TicketFilter,
        before_number: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Ticket>>;
}
