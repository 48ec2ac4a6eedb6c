//! What storage promises: one trait per aggregate, each written against
//! the domain's values, and [`Store`], their sum. The conformance suite
//! (tests/api/store_contract.rs) holds every backend to them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::access::Credential;
use crate::domain::compliance::{ResponseRecord, SurveyTally};
use crate::domain::listing::{DeadlineCursor, DeadlineFilter, ServiceRequestFilter, TicketFilter};
use crate::domain::policy::PolicyVersion;
use crate::domain::service_request::ServiceRequest;
use crate::domain::survey::Survey;
use crate::domain::ticket::{Account, AccountUpdate, Ticket, TicketEvent, TicketKey};
use crate::domain::watch::{LogPosition, WatchFilter};
use crate::error::Result;

/// The result of inserting a record that may carry a request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted<T = Ticket> {
    /// Stored now; it has its number.
    New(T),
    /// One with the same request id was already stored; nothing was written.
    Existing(T),
}

/// One event read from the log, with the ticket as it stands at the read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedEvent {
    pub position: LogPosition,
    pub event: TicketEvent,
    pub ticket: Ticket,
}

/// Events read from the log, and the position the read reached: the last
/// event's when the page was full, else the newest position nothing can
/// commit before (or the `upto` asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogPage {
    pub events: Vec<LoggedEvent>,
    pub reached: LogPosition,
}

/// The open tickets a watch starts from, read in one transaction with the
/// log position they reflect. `already_applied` lists events after
/// `position` whose effect the tickets already show (committed out of
/// position order while the snapshot was read); a reader skips them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSnapshot {
    pub tickets: Vec<Ticket>,
    pub position: LogPosition,
    pub already_applied: Vec<LogPosition>,
}

/// Whether the database answers.
#[async_trait]
pub trait Health: Send + Sync + 'static {
    /// Cheap round trip used by the health check, over a connection
    /// outside the pool and within a second: it answers whether the
    /// database does, not whether the pool has a connection free.
    async fn ping(&self) -> Result<()>;
}

/// Customer accounts, whose plan decides a ticket's deadline.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
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
}

/// Tickets and the events recording what happened to each. The deadline
/// listing is here too: it reads tickets alone, by their own columns.
#[async_trait]
pub trait TicketStore: Send + Sync + 'static {
    /// Stores a received ticket and its first events atomically. When the
    /// account already has a ticket with its request id, returns that one and
    /// writes nothing. When the account is no longer on `ticket.plan` (the
    /// caller decided the deadline from a plan read earlier), writes nothing
    /// and fails with [`crate::error::Error::Conflict`]. On PostgreSQL, tickets of calls in
    /// flight together are written in one statement (see `intake_batch`).
    async fn insert_ticket(&self, ticket: &Ticket, events: &[TicketEvent]) -> Result<Inserted>;
    /// Writes a changed ticket and the events recording the change in one
    /// transaction, only if the stored ticket is still at `expected_version`;
    /// otherwise fails with `Conflict` and writes nothing. Returns the ticket
    /// at its new version. A survey issued by the change is written in the
    /// same transaction.
    async fn update_ticket(
        &self,
        ticket: &Ticket,
        expected_version: i64,
        events: &[TicketEvent],
        survey: Option<&Survey>,
    ) -> Result<Ticket>;
    /// A ticket's events in order, after event `after_id`.
    async fn list_ticket_events(
        &self,
        ticket_id: Uuid,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<TicketEvent>>;
    /// Tickets whose SLA state may have changed by `now`, earliest first.
    async fn tickets_due_for_sla_check(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<Ticket>>;
    /// The earliest moment any ticket's SLA state changes by time alone.
    async fn next_sla_check_at(&self) -> Result<Option<DateTime<Utc>>>;
    /// Unanswered tickets matching `filter`, earliest deadline first, after `after`.
    async fn list_tickets_by_deadline(
        &self,
        filter: &DeadlineFilter,
        after: Option<DeadlineCursor>,
        limit: i64,
    ) -> Result<Vec<Ticket>>;
    /// Request ids are scoped to the account that used them.
    async fn find_ticket_by_request_id(
        &self,
        account_id: &str,
        request_id: &str,
    ) -> Result<Option<Ticket>>;
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

/// Satisfaction surveys; they are issued with a ticket change
/// ([`TicketStore::update_ticket`]) and answered here.
#[async_trait]
pub trait SurveyStore: Send + Sync + 'static {
    async fn find_survey(&self, token: &str) -> Result<Option<Survey>>;
    /// Records the answer unless the survey already has one; `false` then.
    async fn answer_survey(&self, survey: &Survey) -> Result<bool>;
    /// Surveys in issue order after `after_id`, of one ticket or all, and
    /// only answered ones when asked.
    async fn list_surveys(
        &self,
        ticket_id: Option<Uuid>,
        answered_only: bool,
        after_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Survey>>;
}

/// Professional-services requests.
#[async_trait]
pub trait ServiceRequestStore: Send + Sync + 'static {
    /// Stores a professional-services request; with a request id already
    /// used by the account, returns the stored one and writes nothing.
    async fn insert_service_request(
        &self,
        request: &ServiceRequest,
    ) -> Result<Inserted<ServiceRequest>>;
    async fn get_service_request(&self, number: i64) -> Result<ServiceRequest>;
    /// Requests newest first, below `before_number`.
    async fn list_service_requests(
        &self,
        filter: &ServiceRequestFilter,
        before_number: Option<i64>,
        limit: i64,
    ) -> Result<Vec<ServiceRequest>>;
    /// Writes a changed request if it is still at `expected_version`, else `Conflict`.
    async fn update_service_request(
        &self,
        request: &ServiceRequest,
        expected_version: i64,
    ) -> Result<ServiceRequest>;
}

/// What the compliance report reads. A trait of its own because its
/// reads cut across aggregates (the tallies join surveys to their
/// tickets) and serve one report, not the tickets' or surveys' owners.
#[async_trait]
pub trait ComplianceStore: Send + Sync + 'static {
    /// What the compliance report needs of each ticket received in `[start, end)`.
    async fn response_records(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<ResponseRecord>>;
    /// Answered surveys of tickets received in `[start, end)`, per group.
    async fn survey_tallies(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<SurveyTally>>;
}

/// API credentials, for authentication and `ticketd admin`.
#[async_trait]
pub trait CredentialStore: Send + Sync + 'static {
    /// Stores a new credential; `AlreadyExists` when a live credential has
    /// the name.
    async fn insert_credential(&self, credential: &Credential) -> Result<()>;

    /// The credential with this id, revoked or not.
    async fn get_credential(&self, id: &str) -> Result<Option<Credential>>;

    /// Every credential, live and revoked, oldest first.
    async fn list_credentials(&self) -> Result<Vec<Credential>>;

    /// Revokes the live credential whose id or name is `id_or_name`;
    /// `NotFound` when there is none.
    async fn revoke_credential(&self, id_or_name: &str, at: DateTime<Utc>) -> Result<Credential>;

    /// Records when credentials were last used; never moves a time back.
    async fn record_credential_use(&self, uses: &[(String, DateTime<Utc>)]) -> Result<()>;
}

/// The policy's versions: immutable, numbered documents, the highest number
/// active. Activating appends; going back to an earlier policy is activating
/// its document again, as a new number.
#[async_trait]
pub trait PolicyStore: Send + Sync + 'static {
    /// Appends version `expected_active + 1` only while the active version
    /// is still `expected_active` (0: no version yet). Of two activations
    /// from the same version, one is written and the other fails with
    /// [`crate::error::Error::PolicyVersionRaced`] naming the version now
    /// active, having written nothing. `document` is stored as given;
    /// checking it is the caller's.
    async fn activate_policy(
        &self,
        expected_active: i64,
        document: &str,
        label: &str,
        activated_by: &str,
        note: &str,
        at: DateTime<Utc>,
    ) -> Result<PolicyVersion>;
    /// The active version's number; 0 when there is none yet. One small
    /// read, for replicas polling for a new activation.
    async fn active_policy_number(&self) -> Result<i64>;
    /// The active version, if any.
    async fn active_policy(&self) -> Result<Option<PolicyVersion>>;
    /// Version `number`, or `NotFound`.
    async fn get_policy_version(&self, number: i64) -> Result<PolicyVersion>;
    /// Versions in number order, after `after`.
    async fn list_policy_versions(
        &self,
        after: Option<i64>,
        limit: i64,
    ) -> Result<Vec<PolicyVersion>>;
}

/// The ticket events in commit order, which watch streams follow.
#[async_trait]
pub trait EventLogStore: Send + Sync + 'static {
    /// Events after `after` in log order, at most `limit`, up to `upto` when
    /// given (else as far as is settled), each with its ticket.
    async fn read_event_log(
        &self,
        after: LogPosition,
        upto: Option<LogPosition>,
        limit: i64,
    ) -> Result<LogPage>;
    /// The newest position nothing can commit before.
    async fn event_log_head(&self) -> Result<LogPosition>;
    /// Open tickets matching `filter` at `now`, earliest deadline first; at
    /// most `limit` (the caller asks one more than it accepts, to tell).
    async fn watch_snapshot(
        &self,
        filter: &WatchFilter,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<WatchSnapshot>;
}

/// All of storage, for the service layer and the application that wires
/// it. A part that needs less takes less (`Arc<dyn CredentialStore>`, …):
/// an `Arc<dyn Store>` coerces to any of them.
pub trait Store:
    Health
    + AccountStore
    + TicketStore
    + SurveyStore
    + ServiceRequestStore
    + ComplianceStore
    + CredentialStore
    + EventLogStore
    + PolicyStore
{
}

impl<T> Store for T where
    T: Health
        + AccountStore
        + TicketStore
        + SurveyStore
        + ServiceRequestStore
        + ComplianceStore
        + CredentialStore
        + EventLogStore
        + PolicyStore
        + ?Sized
{
}
