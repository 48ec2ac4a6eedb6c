//! The RPCs of the contract, listed once: a call to each with its request,
//! the method it goes to, and how it is sent through the generated clients.
//! The access matrix and the bad-input cases both build on it, and it is
//! checked against the descriptor set here.

use std::collections::BTreeSet;

use ticketd::client::AuthedChannel;
use ticketd::proto::pb;
use ticketd::proto::pb::policy_service_client::PolicyServiceClient;
use ticketd::proto::pb::ticket_service_client::TicketServiceClient;
use tonic::Status;

/// The generated clients a call is sent through.
pub struct Clients {
    pub tickets: TicketServiceClient<AuthedChannel>,
    pub policy: PolicyServiceClient<AuthedChannel>,
}

/// Declares the RPC list once: each line is a variant of `Call` with its
/// request type, the method's name in the contract, and the client field
/// and method that send it.
macro_rules! rpcs {
    ($($variant:ident($request:ty) => $method:literal, $client:ident.$send:ident;)+) => {
        /// One RPC and its request.
        #[derive(Debug)]
        pub enum Call {
            $($variant($request)),+
        }

        /// Every method the calls go to, one per variant.
        pub const METHODS: &[&str] = &[$($method),+];

        impl Call {
            /// The method the call goes to, as the contract names it.
            pub fn method(&self) -> &'static str {
                match self {
                    $(Call::$variant(_) => $method),+
                }
            }

            /// Makes the call, keeping only its outcome.
            pub async fn send(self, clients: &mut Clients) -> Result<(), Status> {
                match self {
                    $(Call::$variant(r) => clients.$client.$send(r).await.map(drop)),+
                }
            }
        }
    };
}

rpcs! {
    CreateAccount(pb::CreateAccountRequest) => "CreateAccount", tickets.create_account;
    GetAccount(pb::GetAccountRequest) => "GetAccount", tickets.get_account;
    UpdateAccount(pb::UpdateAccountRequest) => "UpdateAccount", tickets.update_account;
    ListAccounts(pb::ListAccountsRequest) => "ListAccounts", tickets.list_accounts;
    CreateTicket(pb::CreateTicketRequest) => "CreateTicket", tickets.create_ticket;
    GetTicket(pb::GetTicketRequest) => "GetTicket", tickets.get_ticket;
    ListTickets(pb::ListTicketsRequest) => "ListTickets", tickets.list_tickets;
    Acknowledge(pb::AcknowledgeTicketRequest) => "AcknowledgeTicket", tickets.acknowledge_ticket;
    UpdateStatus(pb::UpdateTicketStatusRequest) => "UpdateTicketStatus", tickets.update_ticket_status;
    Resolve(pb::ResolveTicketRequest) => "ResolveTicket", tickets.resolve_ticket;
    Reopen(pb::ReopenTicketRequest) => "ReopenTicket", tickets.reopen_ticket;
    Close(pb::CloseTicketRequest) => "CloseTicket", tickets.close_ticket;
    Reprioritize(pb::ReprioritizeTicketRequest) => "ReprioritizeTicket", tickets.reprioritize_ticket;
    ListEvents(pb::ListTicketEventsRequest) => "ListTicketEvents", tickets.list_ticket_events;
    AnswerSurvey(pb::AnswerSurveyRequest) => "AnswerSurvey", tickets.answer_survey;
    ListSurveys(pb::ListSurveysRequest) => "ListSurveys", tickets.list_surveys;
    CreateServiceRequest(pb::CreateServiceRequestRequest) => "CreateServiceRequest", tickets.create_service_request;
    GetServiceRequest(pb::GetServiceRequestRequest) => "GetServiceRequest", tickets.get_service_request;
    ListServiceRequests(pb::ListServiceRequestsRequest) => "ListServiceRequests", tickets.list_service_requests;
    UpdateServiceRequestStatus(pb::UpdateServiceRequestStatusRequest) => "UpdateServiceRequestStatus", tickets.update_service_request_status;
    ListByDeadline(pb::ListTicketsByDeadlineRequest) => "ListTicketsByDeadline", tickets.list_tickets_by_deadline;
    ComplianceReport(pb::GetComplianceReportRequest) => "GetComplianceReport", tickets.get_compliance_report;
    Watch(pb::WatchSlaStatusRequest) => "WatchSlaStatus", tickets.watch_sla_status;
    GetPolicy(pb::GetPolicyRequest) => "GetPolicy", policy.get_policy;
    CheckChannel(pb::CheckChannelRequest) => "CheckChannel", policy.check_channel;
    ClassifyPriority(pb::ClassifyPriorityRequest) => "ClassifyPriority", policy.classify_priority;
    ComputeDeadline(pb::ComputeDeadlineRequest) => "ComputeDeadline", policy.compute_deadline;
    ValidatePolicyDocument(pb::ValidatePolicyDocumentRequest) => "ValidatePolicyDocument", policy.validate_policy_document;
}

/// The methods the list covers, as a set to compare other lists with.
pub fn methods() -> BTreeSet<String> {
    METHODS.iter().map(|&m| m.to_owned()).collect()
}

/// The list names every method of the contract, each once, so a new RPC
/// cannot arrive without a line here (and, through it, a row in the access
/// matrix and bad-input cases).
#[test]
fn the_rpc_list_is_every_method_of_the_contract_once() {
    assert_eq!(methods().len(), METHODS.len(), "a method listed twice");
    assert_eq!(super::contract::methods(), methods());
}
