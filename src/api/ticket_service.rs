//! `support.v1.TicketService`: validate → call the service → convert.

use std::pin::Pin;
use std::sync::Arc;

use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::convert::timestamp;
use super::paging::Page;
use super::validate;
use crate::error::Error;
use crate::proto::pb;
use crate::proto::pb::ticket_service_server::TicketService;
use crate::service::Service;
use crate::watch::Hub;

pub struct TicketApi {
    service: Service,
    hub: Arc<Hub>,
}

impl TicketApi {
    pub fn new(service: Service, hub: Arc<Hub>) -> Self {
        Self { service, hub }
    }
}

/// The one check the guard cannot make: whether the caller may create a
/// ticket on the channel the ticket arrived on. A request without an origin
/// passes here and is refused by validation.
fn authorize_channel(request: &Request<pb::CreateTicketRequest>) -> Result<(), Error> {
    use crate::domain::access::Principal;
    use crate::domain::policy::Channel;
    use pb::create_ticket_request::Origin;
    let principal = request
        .extensions()
        .get::<Principal>()
        .ok_or(Error::Unauthenticated("missing credentials"))?;
    let channel = match request.get_ref().origin {
        Some(Origin::Chat(_)) => Channel::Chat,
        Some(Origin::PhoneCall(_)) => Channel::Phone,
        Some(Origin::WebForm(_)) => Channel::WebForm,
        None => return Ok(()),
    };
    principal
        .require_channel(channel)
        .map_err(Error::PermissionDenied)
}

type WatchResponses =
    Pin<Box<dyn Stream<Item = Result<pb::WatchSlaStatusResponse, Status>> + Send + 'static>>;

#[tonic::async_trait]
impl TicketService for TicketApi {
    async fn create_account(
        &self,
        request: Request<pb::CreateAccountRequest>,
    ) -> Result<Response<pb::CreateAccountResponse>, Status> {
        let new = validate::create_account(request.into_inner())?;
        let account = self.service.create_account(new).await?;
        Ok(Response::new(pb::CreateAccountResponse {
            account: Some(account.into()),
        }))
    }

    async fn get_account(
        &self,
        request: Request<pb::GetAccountRequest>,
    ) -> Result<Response<pb::GetAccountResponse>, Status> {
        let id = validate::account_name("name", &request.get_ref().name)?;
        let account = self.service.get_account(&id).await?;
        Ok(Response::new(pb::GetAccountResponse {
            account: Some(account.into()),
        }))
    }

    async fn update_account(
        &self,
        request: Request<pb::UpdateAccountRequest>,
    ) -> Result<Response<pb::UpdateAccountResponse>, Status> {
        let (id, update) = validate::update_account(request.into_inner())?;
        let account = self.service.update_account(&id, update).await?;
        Ok(Response::new(pb::UpdateAccountResponse {
            account: Some(account.into()),
        }))
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Result<Response<pb::ListAccountsResponse>, Status> {
        let request = request.into_inner();
        let page_size = validate::list_accounts_page_size(request.page_size)?;
        let page = Page::open(&request.page_token, "accounts", page_size, |id| {
            validate::is_account_id(id).then(|| id.to_owned())
        })?;
        let mut accounts = self
            .service
            .list_accounts(page.after.as_deref(), page.limit())
            .await?;
        let next_page_token = page.next_token(&mut accounts, |a| a.id.clone());
        Ok(Response::new(pb::ListAccountsResponse {
            accounts: accounts.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn create_ticket(
        &self,
        request: Request<pb::CreateTicketRequest>,
    ) -> Result<Response<pb::CreateTicketResponse>, Status> {
        authorize_channel(&request)?;
        // One snapshot of the active policy for the whole request.
        let policy = self.service.policies().active();
        let request = validate::create_ticket(request.into_inner(), &policy.policy)?;
        let ticket = self.service.create_ticket(&policy, request).await?;
        Ok(Response::new(pb::CreateTicketResponse {
            ticket: Some(ticket.into()),
        }))
    }

    async fn get_ticket(
        &self,
        request: Request<pb::GetTicketRequest>,
    ) -> Result<Response<pb::GetTicketResponse>, Status> {
        let key = validate::ticket_name(&request.get_ref().name)?;
        let ticket = self.service.get_ticket(key).await?;
        Ok(Response::new(pb::GetTicketResponse {
            ticket: Some(ticket.into()),
        }))
    }

    async fn list_tickets(
        &self,
        request: Request<pb::ListTicketsRequest>,
    ) -> Result<Response<pb::ListTicketsResponse>, Status> {
        let request = request.into_inner();
        let listing = validate::list_tickets(&request)?;
        let page = Page::open(
            &request.page_token,
            &format!("tickets {:?}", listing.filter),
            listing.page_size,
            |key| key.parse().ok(),
        )?;
        let mut tickets = self
            .service
            .list_tickets(&listing.filter, page.after, page.limit())
            .await?;
        let next_page_token = page.next_token(&mut tickets, |t| t.number.to_string());
        Ok(Response::new(pb::ListTicketsResponse {
            tickets: tickets.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn acknowledge_ticket(
        &self,
        request: Request<pb::AcknowledgeTicketRequest>,
    ) -> Result<Response<pb::AcknowledgeTicketResponse>, Status> {
        agent_action!(
            self,
            request,
            validate::acknowledge,
            AcknowledgeTicketResponse
        )
    }

    async fn update_ticket_status(
        &self,
        request: Request<pb::UpdateTicketStatusRequest>,
    ) -> Result<Response<pb::UpdateTicketStatusResponse>, Status> {
        agent_action!(
            self,
            request,
            validate::update_status,
            UpdateTicketStatusResponse
        )
    }

    async fn resolve_ticket(
        &self,
        request: Request<pb::ResolveTicketRequest>,
    ) -> Result<Response<pb::ResolveTicketResponse>, Status> {
        let (key, action) = validate::resolve(request.into_inner())?;
        let (ticket, survey) = self.service.act(key, &action).await?;
        Ok(Response::new(pb::ResolveTicketResponse {
            ticket: Some(ticket.into()),
            survey_token: survey.map(|s| s.token).unwrap_or_default(),
        }))
    }

    async fn answer_survey(
        &self,
        request: Request<pb::AnswerSurveyRequest>,
    ) -> Result<Response<pb::AnswerSurveyResponse>, Status> {
        let answer = validate::answer_survey(request.into_inner())?;
        let survey = self
            .service
            .answer_survey(&answer.token, answer.rating, answer.comment)
            .await?;
        Ok(Response::new(pb::AnswerSurveyResponse {
            survey: Some(survey.into()),
        }))
    }

    async fn list_surveys(
        &self,
        request: Request<pb::ListSurveysRequest>,
    ) -> Result<Response<pb::ListSurveysResponse>, Status> {
        let request = request.into_inner();
        let listing = validate::list_surveys(&request)?;
        let page = Page::open(
            &request.page_token,
            &format!("surveys {} {}", request.ticket, request.answered_only),
            listing.page_size,
            |key| key.parse().ok(),
        )?;
        let mut surveys = self
            .service
            .list_surveys(
                listing.ticket,
                request.answered_only,
                page.after,
                page.limit(),
            )
            .await?;
        let next_page_token = page.next_token(&mut surveys, |s| s.id.to_string());
        Ok(Response::new(pb::ListSurveysResponse {
            surveys: surveys.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn reopen_ticket(
        &self,
        request: Request<pb::ReopenTicketRequest>,
    ) -> Result<Response<pb::ReopenTicketResponse>, Status> {
        agent_action!(self, request, validate::reopen, ReopenTicketResponse)
    }

    async fn close_ticket(
        &self,
        request: Request<pb::CloseTicketRequest>,
    ) -> Result<Response<pb::CloseTicketResponse>, Status> {
        agent_action!(self, request, validate::close, CloseTicketResponse)
    }

    async fn reprioritize_ticket(
        &self,
        request: Request<pb::ReprioritizeTicketRequest>,
    ) -> Result<Response<pb::ReprioritizeTicketResponse>, Status> {
        agent_action!(
            self,
            request,
            validate::reprioritize,
            ReprioritizeTicketResponse
        )
    }

    async fn list_tickets_by_deadline(
        &self,
        request: Request<pb::ListTicketsByDeadlineRequest>,
    ) -> Result<Response<pb::ListTicketsByDeadlineResponse>, Status> {
        let request = request.into_inner();
        // Stored times have microsecond precision; compare at the same precision.
        let now = crate::domain::intake::receipt_time(self.service.clock().now());
        let listing = validate::list_tickets_by_deadline(&request, now)?;
        let page = Page::open(
            &request.page_token,
            &listing.fingerprint,
            listing.page_size,
            deadline_cursor,
        )?;
        let mut tickets = self
            .service
            .list_tickets_by_deadline(&listing.filter, page.after, page.limit())
            .await?;
        let next_page_token = page.next_token(&mut tickets, |t| {
            format!("{}:{}", t.response_due_at.timestamp_micros(), t.number)
        });
        Ok(Response::new(pb::ListTicketsByDeadlineResponse {
            tickets: tickets.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn create_service_request(
        &self,
        request: Request<pb::CreateServiceRequestRequest>,
    ) -> Result<Response<pb::CreateServiceRequestResponse>, Status> {
        let new = validate::create_service_request(request.into_inner())?;
        let stored = self.service.create_service_request(new).await?;
        Ok(Response::new(pb::CreateServiceRequestResponse {
            service_request: Some(stored.into()),
        }))
    }

    async fn get_service_request(
        &self,
        request: Request<pb::GetServiceRequestRequest>,
    ) -> Result<Response<pb::GetServiceRequestResponse>, Status> {
        let number = validate::service_request_name("name", &request.get_ref().name)?;
        let stored = self.service.get_service_request(number).await?;
        Ok(Response::new(pb::GetServiceRequestResponse {
            service_request: Some(stored.into()),
        }))
    }

    async fn list_service_requests(
        &self,
        request: Request<pb::ListServiceRequestsRequest>,
    ) -> Result<Response<pb::ListServiceRequestsResponse>, Status> {
        let request = request.into_inner();
        let listing = validate::list_service_requests(&request)?;
        let page = Page::open(
            &request.page_token,
            &format!("service requests {:?}", listing.filter),
            listing.page_size,
            |key| key.parse().ok(),
        )?;
        let mut requests = self
            .service
            .list_service_requests(&listing.filter, page.after, page.limit())
            .await?;
        let next_page_token = page.next_token(&mut requests, |r| r.number.to_string());
        Ok(Response::new(pb::ListServiceRequestsResponse {
            service_requests: requests.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    async fn update_service_request_status(
        &self,
        request: Request<pb::UpdateServiceRequestStatusRequest>,
    ) -> Result<Response<pb::UpdateServiceRequestStatusResponse>, Status> {
        let (number, status) = validate::update_service_request_status(request.get_ref())?;
        let stored = self.service.move_service_request(number, status).await?;
        Ok(Response::new(pb::UpdateServiceRequestStatusResponse {
            service_request: Some(stored.into()),
        }))
    }

    async fn get_compliance_report(
        &self,
        request: Request<pb::GetComplianceReportRequest>,
    ) -> Result<Response<pb::GetComplianceReportResponse>, Status> {
        let (start, end) = validate::compliance_period(request.get_ref())?;
        let (generated, rows) = self.service.compliance_report(start, end).await?;
        Ok(Response::new(pb::GetComplianceReportResponse {
            start_time: Some(timestamp(start)),
            end_time: Some(timestamp(end)),
            generate_time: Some(timestamp(generated)),
            rows: rows.into_iter().map(Into::into).collect(),
        }))
    }

    async fn list_ticket_events(
        &self,
        request: Request<pb::ListTicketEventsRequest>,
    ) -> Result<Response<pb::ListTicketEventsResponse>, Status> {
        let request = request.into_inner();
        let listing = validate::list_ticket_events(&request)?;
        let page = Page::open(
            &request.page_token,
            &format!("events {}", request.name),
            listing.page_size,
            |key| key.parse().ok(),
        )?;
        let (_, mut events) = self
            .service
            .list_ticket_events(listing.key, page.after, page.limit())
            .await?;
        let next_page_token = page.next_token(&mut events, |e| e.id.to_string());
        Ok(Response::new(pb::ListTicketEventsResponse {
            events: events.into_iter().map(Into::into).collect(),
            next_page_token,
        }))
    }

    type WatchSlaStatusStream = WatchResponses;

    async fn watch_sla_status(
        &self,
        request: Request<pb::WatchSlaStatusRequest>,
    ) -> Result<Response<Self::WatchSlaStatusStream>, Status> {
        let (filter, resume) = validate::watch_sla_status(request.get_ref())?;
        let updates = self.hub.watch(filter, resume).await?;
        Ok(Response::new(Box::pin(updates.map(|update| {
            update
                .map(pb::WatchSlaStatusResponse::from)
                .map_err(Status::from)
        }))))
    }
}

/// Applies an agent's action and answers with the ticket.
macro_rules! agent_action {
    ($self:ident, $request:ident, $validate:path, $response:ident) => {{
        let (key, action) = $validate($request.into_inner())?;
        let (ticket, _) = $self.service.act(key, &action).await?;
        Ok(Response::new(pb::$response {
            ticket: Some(ticket.into()),
        }))
    }};
}
use agent_action;

/// The key of a deadline-ordered page: the last ticket's deadline in
/// microseconds and its number.
fn deadline_cursor(key: &str) -> Option<crate::domain::listing::DeadlineCursor> {
    let (micros, number) = key.split_once(':')?;
    let due = micros
        .parse::<i64>()
        .ok()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .filter(validate::is_timestamp_in_range)?;
    Some((due, number.parse().ok()?))
}
