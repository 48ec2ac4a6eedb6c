//! Hostile and malformed input, RPC by RPC. Each bad request is refused with
//! INVALID_ARGUMENT, its BadRequest names the bad field, and no table of the
//! database gains or loses a row. Requests over the message size limit are
//! refused before they are read.

use prost::Message;
use prost::bytes::{Buf, BufMut};
use ticketd::api::page_token;
use ticketd::proto::pb;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::helpers::*;

/// One RPC and its request.
enum Call {
    CreateAccount(pb::CreateAccountRequest),
    GetAccount(pb::GetAccountRequest),
    UpdateAccount(pb::UpdateAccountRequest),
    ListAccounts(pb::ListAccountsRequest),
    CreateTicket(pb::CreateTicketRequest),
    GetTicket(pb::GetTicketRequest),
    ListTickets(pb::ListTicketsRequest),
    Acknowledge(pb::AcknowledgeTicketRequest),
    UpdateStatus(pb::UpdateTicketStatusRequest),
    Resolve(pb::ResolveTicketRequest),
    Reopen(pb::ReopenTicketRequest),
    Close(pb::CloseTicketRequest),
    Reprioritize(pb::ReprioritizeTicketRequest),
    ListEvents(pb::ListTicketEventsRequest),
    AnswerSurvey(pb::AnswerSurveyRequest),
    ListSurveys(pb::ListSurveysRequest),
    CreateServiceRequest(pb::CreateServiceRequestRequest),
    GetServiceRequest(pb::GetServiceRequestRequest),
    ListServiceRequests(pb::ListServiceRequestsRequest),
    UpdateServiceRequestStatus(pb::UpdateServiceRequestStatusRequest),
    ListByDeadline(pb::ListTicketsByDeadlineRequest),
    ComplianceReport(pb::GetComplianceReportRequest),
    Watch(pb::WatchSlaStatusRequest),
    CheckChannel(pb::CheckChannelRequest),
    ClassifyPriority(pb::ClassifyPriorityRequest),
    ComputeDeadline(pb::ComputeDeadlineRequest),
    /// Bytes no generated client sends (invalid UTF-8, a cut-off field), to
    /// a method path.
    Raw(&'static str, Vec<u8>),
}

struct Case {
    what: &'static str,
    call: Call,
    /// The fields the BadRequest must name, in order.
    fields: &'static [&'static str],
}

async fn send(app: &TestApp, call: Call) -> Result<(), Status> {
    let mut tickets = app.tickets.clone();
    let mut policy = app.policy.clone();
    match call {
        Call::CreateAccount(r) => tickets.create_account(r).await.map(drop),
        Call::GetAccount(r) => tickets.get_account(r).await.map(drop),
        Call::UpdateAccount(r) => tickets.update_account(r).await.map(drop),
        Call::ListAccounts(r) => tickets.list_accounts(r).await.map(drop),
        Call::CreateTicket(r) => tickets.create_ticket(r).await.map(drop),
        Call::GetTicket(r) => tickets.get_ticket(r).await.map(drop),
        Call::ListTickets(r) => tickets.list_tickets(r).await.map(drop),
        Call::Acknowledge(r) => tickets.acknowledge_ticket(r).await.map(drop),
        Call::UpdateStatus(r) => tickets.update_ticket_status(r).await.map(drop),
        Call::Resolve(r) => tickets.resolve_ticket(r).await.map(drop),
        Call::Reopen(r) => tickets.reopen_ticket(r).await.map(drop),
        Call::Close(r) => tickets.close_ticket(r).await.map(drop),
        Call::Reprioritize(r) => tickets.reprioritize_ticket(r).await.map(drop),
        Call::ListEvents(r) => tickets.list_ticket_events(r).await.map(drop),
        Call::AnswerSurvey(r) => tickets.answer_survey(r).await.map(drop),
        Call::ListSurveys(r) => tickets.list_surveys(r).await.map(drop),
        Call::CreateServiceRequest(r) => tickets.create_service_request(r).await.map(drop),
        Call::GetServiceRequest(r) => tickets.get_service_request(r).await.map(drop),
        Call::ListServiceRequests(r) => tickets.list_service_requests(r).await.map(drop),
        Call::UpdateServiceRequestStatus(r) => {
            tickets.update_service_request_status(r).await.map(drop)
        }
        Call::ListByDeadline(r) => tickets.list_tickets_by_deadline(r).await.map(drop),
        Call::ComplianceReport(r) => tickets.get_compliance_report(r).await.map(drop),
        Call::Watch(r) => tickets.watch_sla_status(r).await.map(drop),
        Call::CheckChannel(r) => policy.check_channel(r).await.map(drop),
        Call::ClassifyPriority(r) => policy.classify_priority(r).await.map(drop),
        Call::ComputeDeadline(r) => policy.compute_deadline(r).await.map(drop),
        Call::Raw(path, body) => send_raw(app, path, body).await,
    }
}

/// Sends `body` as the message of a unary call to `path`, on a connection of
/// its own (the generated clients only send what their types can hold).
async fn send_raw(app: &TestApp, path: &'static str, body: Vec<u8>) -> Result<(), Status> {
    let channel = Channel::from_shared(format!("http://{}", app.addr))
        .unwrap()
        .connect()
        .await
        .expect("connect to test server");
    let mut grpc = tonic::client::Grpc::new(InterceptedService::new(channel, app.bearer()));
    grpc.ready().await.expect("channel ready");
    grpc.unary(
        tonic::Request::new(body),
        PathAndQuery::from_static(path),
        RawCodec,
    )
    .await
    .map(drop)
}

/// Passes bytes through unchanged, both ways.
struct RawCodec;
struct RawBytes;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawBytes;
    type Decoder = RawBytes;

    fn encoder(&mut self) -> RawBytes {
        RawBytes
    }

    fn decoder(&mut self) -> RawBytes {
        RawBytes
    }
}

impl Encoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn encode(&mut self, item: Vec<u8>, buf: &mut EncodeBuf<'_>) -> Result<(), Status> {
        buf.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawBytes {
    type Item = Vec<u8>;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        Ok(Some(buf.copy_to_bytes(buf.remaining()).to_vec()))
    }
}

/// A length-delimited field: key, length, bytes.
fn delimited(tag: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, &mut out);
    prost::encoding::encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// `message` encoded, then `extra` fields appended (a later occurrence of a
/// field overrides or merges into the earlier one).
fn encoded_with(message: &impl Message, extra: Vec<u8>) -> Vec<u8> {
    let mut body = message.encode_to_vec();
    body.extend(extra);
    body
}

fn with<T>(mut value: T, change: impl FnOnce(&mut T)) -> T {
    change(&mut value);
    value
}

/// What the bad requests aim at: had validation let one through, it would
/// have changed these.
struct Fixtures {
    /// NEW: acknowledging or reprioritising it writes.
    open_ticket: String,
    /// RESOLVED: reopening or closing it writes.
    resolved_ticket: String,
    /// Of the resolved ticket, unanswered.
    survey_token: String,
    /// SUBMITTED.
    service_request: String,
}

async fn fixtures(app: &TestApp) -> Fixtures {
    app.create_account("acme", pb::Plan::Business).await;
    let open_ticket = app.create_ticket(chat_ticket("acme")).await.unwrap().name;
    let resolved = app.create_ticket(web_ticket("acme")).await.unwrap().name;
    let mut tickets = app.tickets.clone();
    tickets
        .acknowledge_ticket(pb::AcknowledgeTicketRequest {
            name: resolved.clone(),
            responder: "ana".into(),
            method: pb::NotificationMethod::Email.into(),
        })
        .await
        .unwrap();
    let survey_token = tickets
        .resolve_ticket(pb::ResolveTicketRequest {
            name: resolved.clone(),
            actor: "ana".into(),
            note: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .survey_token;
    let service_request = tickets
        .create_service_request(service_request("acme"))
        .await
        .unwrap()
        .into_inner()
        .service_request
        .unwrap()
        .name;
    Fixtures {
        open_ticket,
        resolved_ticket: resolved,
        survey_token,
        service_request,
    }
}

fn service_request(account_id: &str) -> pb::CreateServiceRequestRequest {
    pb::CreateServiceRequestRequest {
        account: account(account_id),
        kind: pb::ServiceKind::Training.into(),
        summary: "Webinar training for 40 hosts".into(),
        details: "Two sessions in January".into(),
        contact_email: "ana@example.com".into(),
        request_id: String::new(),
    }
}

fn new_account(id: &str) -> pb::CreateAccountRequest {
    pb::CreateAccountRequest {
        account_id: id.into(),
        account: Some(pb::Account {
            display_name: "New Co".into(),
            plan: pb::Plan::Pro.into(),
            ..Default::default()
        }),
    }
}

fn acknowledge(name: &str) -> pb::AcknowledgeTicketRequest {
    pb::AcknowledgeTicketRequest {
        name: name.into(),
        responder: "ana@support".into(),
        method: pb::NotificationMethod::ChatMessage.into(),
    }
}

fn reprioritize(name: &str) -> pb::ReprioritizeTicketRequest {
    pb::ReprioritizeTicketRequest {
        name: name.into(),
        priority: pb::Priority::P3Normal.into(),
        actor: "lead".into(),
        reason: "customer found a workaround".into(),
    }
}

fn compliance() -> pb::GetComplianceReportRequest {
    let start = start_time() - chrono::Duration::days(7);
    pb::GetComplianceReportRequest {
        start_time: Some(ts(start)),
        end_time: Some(ts(start_time())),
    }
}

fn deadline_question() -> pb::ComputeDeadlineRequest {
    pb::ComputeDeadlineRequest {
        plan: pb::Plan::Pro.into(),
        priority: pb::Priority::P1Urgent.into(),
        received_at: Some(ts(start_time())),
    }
}

const CREATE_TICKET: &str = "/support.v1.TicketService/CreateTicket";

fn cases(fx: &Fixtures) -> Vec<Case> {
    use pb::{ImpactScope as S, RequestKind as K, Workaround as W};
    let long = |n: usize| "x".repeat(n);
    let all_plans = || (1..=5).chain([1, 2, 3, 4]).collect::<Vec<i32>>();
    vec![
        // Accounts.
        Case {
            what: "an account without an id",
            call: Call::CreateAccount(new_account("")),
            fields: &["account_id"],
        },
        Case {
            what: "an account id with capitals and an underscore",
            call: Call::CreateAccount(new_account("New_Co")),
            fields: &["account_id"],
        },
        Case {
            what: "an account whose display name is 201 characters",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().display_name = "é".repeat(201)
            })),
            fields: &["account.display_name"],
        },
        Case {
            what: "an account whose display name holds a NUL",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().display_name = "New\0Co".into()
            })),
            fields: &["account.display_name"],
        },
        Case {
            what: "an account with PLAN_UNSPECIFIED",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().plan = 0
            })),
            fields: &["account.plan"],
        },
        Case {
            what: "an account with an unknown plan number",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().plan = 99
            })),
            fields: &["account.plan"],
        },
        Case {
            what: "an account update with an unknown mask path",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account("acme"),
                    plan: pb::Plan::Free.into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["plan".into(), "create_time".into()],
                }),
            }),
            fields: &["update_mask"],
        },
        Case {
            what: "an account update whose mask lists 5,000 paths",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account("acme"),
                    plan: pb::Plan::Free.into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["plan".into(); 5_000],
                }),
            }),
            fields: &["update_mask"],
        },
        Case {
            what: "an account update to an unknown plan number",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account("acme"),
                    plan: 42,
                    ..Default::default()
                }),
                update_mask: None,
            }),
            fields: &["account.plan"],
        },
        Case {
            what: "an account update naming the account without its prefix",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: "acme".into(),
                    display_name: "Acme".into(),
                    ..Default::default()
                }),
                update_mask: None,
            }),
            fields: &["account.name"],
        },
        Case {
            what: "an account name of 60,000 characters",
            call: Call::GetAccount(pb::GetAccountRequest {
                name: format!("accounts/{}", long(60_000)),
            }),
            fields: &["name"],
        },
        Case {
            what: "a negative account page size",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: -1,
                page_token: String::new(),
            }),
            fields: &["page_size"],
        },
        Case {
            what: "an account page token that is not hex",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: 10,
                page_token: "zz".into(),
            }),
            fields: &["page_token"],
        },
        Case {
            what: "a forged account page token whose key is a NUL",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: 10,
                page_token: page_token::encode("\0", page_token::fingerprint("accounts")),
            }),
            fields: &["page_token"],
        },
        // CreateTicket from the web form.
        Case {
            what: "a web ticket whose e-mail has no dotted domain",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                form(r).contact_email = "ana@example".into()
            })),
            fields: &["web_form.contact_email"],
        },
        Case {
            what: "a web ticket whose e-mail is 255 characters",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                form(r).contact_email = format!("{}@example.com", long(243))
            })),
            fields: &["web_form.contact_email"],
        },
        Case {
            what: "a web ticket without a description",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.description.clear())),
            fields: &["description"],
        },
        Case {
            what: "a web ticket whose subject is 201 emoji",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.subject = "🎥".repeat(201))),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose subject is only zero-width spaces",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                r.subject = "\u{200B}\u{FEFF}\u{2060}".into()
            })),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose subject holds a right-to-left override",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                r.subject = "invoice \u{202E}fdp.exe".into()
            })),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose subject rings the bell",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.subject = "help\u{7}".into())),
            fields: &["subject"],
        },
        Case {
            what: "a web ticket whose contact name is blank",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| {
                form(r).contact_name = " \t ".into()
            })),
            fields: &["web_form.contact_name"],
        },
        Case {
            what: "a web ticket with a 20,001-character description",
            call: Call::CreateTicket(with(web_ticket("acme"), |r| r.description = long(20_001))),
            fields: &["description"],
        },
        // CreateTicket from chat.
        Case {
            what: "a chat ticket whose transcript link is javascript",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                chat(r).transcript_uri = "javascript:alert(1)".into()
            })),
            fields: &["chat.transcript_uri"],
        },
        Case {
            what: "a chat ticket whose session id is 129 characters",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                chat(r).chat_session_id = long(129)
            })),
            fields: &["chat.chat_session_id"],
        },
        Case {
            what: "a chat ticket with neither transcript nor first message",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                chat(r).transcript_uri.clear();
                chat(r).first_message.clear();
            })),
            fields: &["chat.first_message"],
        },
        Case {
            what: "a chat ticket with REQUEST_KIND_UNSPECIFIED",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.impact = impact(K::Unspecified, S::ServiceDown, W::None)
            })),
            fields: &["impact.kind"],
        },
        Case {
            what: "a chat ticket with an unknown impact scope number",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.impact.as_mut().unwrap().scope = 77
            })),
            fields: &["impact.scope"],
        },
        Case {
            what: "a problem without a workaround for a service outage",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.impact = impact(K::Problem, S::ServiceDown, W::Unspecified)
            })),
            fields: &["impact.workaround"],
        },
        Case {
            what: "a chat ticket whose request id holds a space",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.request_id = "retry 1".into()
            })),
            fields: &["request_id"],
        },
        Case {
            what: "a chat ticket whose request id is 65 characters",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| r.request_id = long(65))),
            fields: &["request_id"],
        },
        Case {
            what: "a ticket without an origin",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| r.origin = None)),
            fields: &["origin"],
        },
        Case {
            what: "a ticket for an account named in capitals",
            call: Call::CreateTicket(with(chat_ticket("acme"), |r| {
                r.account = "accounts/ACME".into()
            })),
            fields: &["account"],
        },
        Case {
            what: "a chat ticket whose subject is not UTF-8",
            call: Call::Raw(
                CREATE_TICKET,
                encoded_with(&chat_ticket("acme"), delimited(5, b"caf\xe9")),
            ),
            fields: &["subject"],
        },
        Case {
            what: "a chat ticket whose first message is not UTF-8",
            call: Call::Raw(
                CREATE_TICKET,
                encoded_with(
                    &chat_ticket("acme"),
                    delimited(3, &delimited(3, b"\xff\xfe")),
                ),
            ),
            fields: &["chat.first_message"],
        },
        // CreateTicket from the phone IVR.
        Case {
            what: "a phone ticket whose caller number has no plus",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).caller_number = "14155550123".into()
            })),
            fields: &["phone_call.caller_number"],
        },
        Case {
            what: "a phone ticket whose caller number has spaces",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).caller_number = "+1 415 555 0123".into()
            })),
            fields: &["phone_call.caller_number"],
        },
        Case {
            what: "a phone ticket whose caller number has 16 digits",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).caller_number = "+1234567890123456".into()
            })),
            fields: &["phone_call.caller_number"],
        },
        Case {
            what: "a phone ticket with REGION_UNSPECIFIED",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| call(r).region = 0)),
            fields: &["phone_call.region"],
        },
        Case {
            what: "a phone ticket whose dialed number is no support line",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).dialed_number = "+14155550000".into()
            })),
            fields: &["phone_call.dialed_number"],
        },
        Case {
            what: "a phone ticket that dialed the Australian line from the US",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| {
                call(r).dialed_number = "+611800768027".into()
            })),
            fields: &["phone_call.dialed_number"],
        },
        Case {
            what: "a phone ticket without a call id",
            call: Call::CreateTicket(with(phone_ticket("acme"), |r| call(r).call_id.clear())),
            fields: &["phone_call.call_id"],
        },
        // Reading and listing tickets.
        Case {
            what: "a ticket number written with a leading zero",
            call: Call::GetTicket(pb::GetTicketRequest {
                name: "tickets/0001".into(),
            }),
            fields: &["name"],
        },
        Case {
            what: "a ticket name that is neither a uuid nor a number",
            call: Call::GetTicket(pb::GetTicketRequest {
                name: "tickets/abc".into(),
            }),
            fields: &["name"],
        },
        Case {
            what: "a ticket name cut off in the middle of the field",
            call: Call::Raw(
                "/support.v1.TicketService/GetTicket",
                // Field 1 says 9 bytes follow; 3 do.
                vec![0x0a, 0x09, b't', b'i', b'c'],
            ),
            fields: &["name"],
        },
        Case {
            what: "a ticket listing with an unknown channel number",
            call: Call::ListTickets(pb::ListTicketsRequest {
                channel: 9,
                ..Default::default()
            }),
            fields: &["channel"],
        },
        Case {
            what: "a ticket listing with a negative status number",
            call: Call::ListTickets(pb::ListTicketsRequest {
                status: -1,
                ..Default::default()
            }),
            fields: &["status"],
        },
        Case {
            what: "a ticket listing for an account without its prefix",
            call: Call::ListTickets(pb::ListTicketsRequest {
                account: "acme".into(),
                ..Default::default()
            }),
            fields: &["account"],
        },
        Case {
            what: "a ticket listing with page size i32::MIN",
            call: Call::ListTickets(pb::ListTicketsRequest {
                page_size: i32::MIN,
                ..Default::default()
            }),
            fields: &["page_size"],
        },
        // Agent actions.
        Case {
            what: "an acknowledgement with NOTIFICATION_METHOD_UNSPECIFIED",
            call: Call::Acknowledge(with(acknowledge(&fx.open_ticket), |r| r.method = 0)),
            fields: &["method"],
        },
        Case {
            what: "an acknowledgement by a blank responder",
            call: Call::Acknowledge(with(acknowledge(&fx.open_ticket), |r| {
                r.responder = "   ".into()
            })),
            fields: &["responder"],
        },
        Case {
            what: "a status update straight to RESOLVED",
            call: Call::UpdateStatus(pb::UpdateTicketStatusRequest {
                name: fx.open_ticket.clone(),
                status: pb::TicketStatus::Resolved.into(),
                actor: "ana".into(),
                note: String::new(),
            }),
            fields: &["status"],
        },
        Case {
            what: "a status update with a 2,001-character note",
            call: Call::UpdateStatus(pb::UpdateTicketStatusRequest {
                name: fx.open_ticket.clone(),
                status: pb::TicketStatus::InProgress.into(),
                actor: "ana".into(),
                note: long(2_001),
            }),
            fields: &["note"],
        },
        Case {
            what: "a resolution without an actor",
            call: Call::Resolve(pb::ResolveTicketRequest {
                name: fx.open_ticket.clone(),
                actor: String::new(),
                note: "fixed".into(),
            }),
            fields: &["actor"],
        },
        Case {
            what: "a reopening whose reason holds a NUL",
            call: Call::Reopen(pb::ReopenTicketRequest {
                name: fx.resolved_ticket.clone(),
                actor: "ana".into(),
                reason: "still\0broken".into(),
            }),
            fields: &["reason"],
        },
        Case {
            what: "closing a ticket by a negative number",
            call: Call::Close(pb::CloseTicketRequest {
                name: "tickets/-2".into(),
                actor: "ana".into(),
            }),
            fields: &["name"],
        },
        Case {
            what: "closing a ticket by an actor of 201 characters",
            call: Call::Close(pb::CloseTicketRequest {
                name: fx.resolved_ticket.clone(),
                actor: long(201),
            }),
            fields: &["actor"],
        },
        Case {
            what: "a reprioritisation to PRIORITY_UNSPECIFIED",
            call: Call::Reprioritize(with(reprioritize(&fx.open_ticket), |r| r.priority = 0)),
            fields: &["priority"],
        },
        Case {
            what: "a reprioritisation without a reason",
            call: Call::Reprioritize(with(reprioritize(&fx.open_ticket), |r| r.reason.clear())),
            fields: &["reason"],
        },
        Case {
            what: "an event listing with a negative page size",
            call: Call::ListEvents(pb::ListTicketEventsRequest {
                name: fx.open_ticket.clone(),
                page_size: -5,
                page_token: String::new(),
            }),
            fields: &["page_size"],
        },
        // Surveys.
        Case {
            what: "a survey answer with SATISFACTION_RATING_UNSPECIFIED",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: fx.survey_token.clone(),
                rating: 0,
                comment: String::new(),
            }),
            fields: &["rating"],
        },
        Case {
            what: "a survey answer with an unknown rating number",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: fx.survey_token.clone(),
                rating: 3,
                comment: String::new(),
            }),
            fields: &["rating"],
        },
        Case {
            what: "a survey answer with a 2,001-character comment",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: fx.survey_token.clone(),
                rating: pb::SatisfactionRating::Good.into(),
                comment: long(2_001),
            }),
            fields: &["comment"],
        },
        Case {
            what: "a survey answer without a token",
            call: Call::AnswerSurvey(pb::AnswerSurveyRequest {
                token: String::new(),
                rating: pb::SatisfactionRating::Good.into(),
                comment: String::new(),
            }),
            fields: &["token"],
        },
        Case {
            what: "a survey listing for something that is not a ticket",
            call: Call::ListSurveys(pb::ListSurveysRequest {
                ticket: "surveys/1".into(),
                ..Default::default()
            }),
            fields: &["ticket"],
        },
        // Professional services.
        Case {
            what: "a service request with SERVICE_KIND_UNSPECIFIED",
            call: Call::CreateServiceRequest(with(service_request("acme"), |r| r.kind = 0)),
            fields: &["kind"],
        },
        Case {
            what: "a service request whose contact is no e-mail address",
            call: Call::CreateServiceRequest(with(service_request("acme"), |r| {
                r.contact_email = "nobody".into()
            })),
            fields: &["contact_email"],
        },
        Case {
            what: "a service request without a summary",
            call: Call::CreateServiceRequest(with(service_request("acme"), |r| r.summary.clear())),
            fields: &["summary"],
        },
        Case {
            what: "a service request with 20,001 characters of details",
            call: Call::CreateServiceRequest(with(service_request("acme"), |r| {
                r.details = long(20_001)
            })),
            fields: &["details"],
        },
        Case {
            what: "a service request name that is not a number",
            call: Call::GetServiceRequest(pb::GetServiceRequestRequest {
                name: "serviceRequests/abc".into(),
            }),
            fields: &["name"],
        },
        Case {
            what: "a service request moved to an unknown status number",
            call: Call::UpdateServiceRequestStatus(pb::UpdateServiceRequestStatusRequest {
                name: fx.service_request.clone(),
                status: 9,
            }),
            fields: &["status"],
        },
        Case {
            what: "a service request listing with an unknown kind number",
            call: Call::ListServiceRequests(pb::ListServiceRequestsRequest {
                kind: 12,
                ..Default::default()
            }),
            fields: &["kind"],
        },
        // Deadlines.
        Case {
            what: "a deadline listing with a negative window",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                due_within: Some(prost_types::Duration {
                    seconds: -60,
                    nanos: 0,
                }),
                ..Default::default()
            }),
            fields: &["due_within"],
        },
        Case {
            what: "a deadline listing whose window has two seconds of nanos",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                due_within: Some(prost_types::Duration {
                    seconds: 60,
                    nanos: 2_000_000_000,
                }),
                ..Default::default()
            }),
            fields: &["due_within"],
        },
        Case {
            what: "a deadline listing of MET tickets",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                sla_states: vec![pb::SlaState::Met.into()],
                ..Default::default()
            }),
            fields: &["sla_states[0]"],
        },
        Case {
            what: "a deadline listing that names a state twice",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                sla_states: vec![pb::SlaState::AtRisk.into(), pb::SlaState::AtRisk.into()],
                ..Default::default()
            }),
            fields: &["sla_states[1]"],
        },
        Case {
            what: "a deadline listing that repeats a state 10,000 times",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                sla_states: vec![pb::SlaState::AtRisk.into(); 10_000],
                ..Default::default()
            }),
            fields: &["sla_states"],
        },
        Case {
            what: "a deadline listing with an unknown priority number",
            call: Call::ListByDeadline(pb::ListTicketsByDeadlineRequest {
                priority: 5,
                ..Default::default()
            }),
            fields: &["priority"],
        },
        // Compliance report.
        Case {
            what: "a compliance report that ends before it starts",
            call: Call::ComplianceReport(pb::GetComplianceReportRequest {
                start_time: compliance().end_time,
                end_time: compliance().start_time,
            }),
            fields: &["end_time"],
        },
        Case {
            what: "a compliance report without a start",
            call: Call::ComplianceReport(with(compliance(), |r| r.start_time = None)),
            fields: &["start_time"],
        },
        Case {
            what: "a compliance report whose start has negative nanos",
            call: Call::ComplianceReport(with(compliance(), |r| {
                r.start_time.as_mut().unwrap().nanos = -1
            })),
            fields: &["start_time"],
        },
        Case {
            what: "a compliance report over two years",
            call: Call::ComplianceReport(with(compliance(), |r| {
                r.start_time.as_mut().unwrap().seconds -= 2 * 366 * 24 * 3600
            })),
            fields: &["end_time"],
        },
        // Watch filters.
        Case {
            what: "a watch filtered by PLAN_UNSPECIFIED",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                plans: vec![0],
                ..Default::default()
            }),
            fields: &["plans[0]"],
        },
        Case {
            what: "a watch that lists a channel twice",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                channels: vec![pb::Channel::Chat.into(), pb::Channel::Chat.into()],
                ..Default::default()
            }),
            fields: &["channels[1]"],
        },
        Case {
            what: "a watch that lists nine plans",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                plans: all_plans(),
                ..Default::default()
            }),
            fields: &["plans"],
        },
        Case {
            what: "a watch resumed from a cursor the server never sent",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                resume_cursor: "v1.-1.x".into(),
                ..Default::default()
            }),
            fields: &["resume_cursor"],
        },
        Case {
            what: "a watch of an account name with a slash in it",
            call: Call::Watch(pb::WatchSlaStatusRequest {
                account: "accounts/acme/tickets".into(),
                ..Default::default()
            }),
            fields: &["account"],
        },
        // PolicyService.
        Case {
            what: "a channel check with neither account nor plan",
            call: Call::CheckChannel(pb::CheckChannelRequest {
                account: String::new(),
                plan: 0,
                channel: pb::Channel::Phone.into(),
            }),
            fields: &["account"],
        },
        Case {
            what: "a channel check with both account and plan",
            call: Call::CheckChannel(pb::CheckChannelRequest {
                account: account("acme"),
                plan: pb::Plan::Free.into(),
                channel: pb::Channel::Phone.into(),
            }),
            fields: &["plan"],
        },
        Case {
            what: "a channel check of CHANNEL_UNSPECIFIED",
            call: Call::CheckChannel(pb::CheckChannelRequest {
                account: String::new(),
                plan: pb::Plan::Free.into(),
                channel: 0,
            }),
            fields: &["channel"],
        },
        Case {
            what: "a channel check whose account is not UTF-8",
            call: Call::Raw(
                "/support.v1.PolicyService/CheckChannel",
                encoded_with(
                    &pb::CheckChannelRequest {
                        account: account("acme"),
                        plan: 0,
                        channel: pb::Channel::Phone.into(),
                    },
                    delimited(1, b"accounts/acme\xc0"),
                ),
            ),
            fields: &["account"],
        },
        Case {
            what: "a classification of a problem without a scope",
            call: Call::ClassifyPriority(pb::ClassifyPriorityRequest {
                impact: impact(K::Problem, S::Unspecified, W::None),
            }),
            fields: &["impact.scope"],
        },
        Case {
            what: "a classification without an impact",
            call: Call::ClassifyPriority(pb::ClassifyPriorityRequest { impact: None }),
            fields: &["impact"],
        },
        Case {
            what: "a deadline question whose deadline falls after 9999",
            call: Call::ComputeDeadline(with(deadline_question(), |r| {
                r.received_at = Some(prost_types::Timestamp {
                    seconds: 253_402_300_000,
                    nanos: 0,
                })
            })),
            fields: &["received_at"],
        },
        Case {
            what: "a deadline question with PLAN_UNSPECIFIED",
            call: Call::ComputeDeadline(with(deadline_question(), |r| r.plan = 0)),
            fields: &["plan"],
        },
    ]
}

/// Error messages travel in HTTP/2 trailers, which clients cap (8 KiB in
/// gRPC's C core); a refusal must stay well within that.
const MAX_ERROR_MESSAGE_BYTES: usize = 2_048;

async fn every_bad_input_is_refused_naming_its_field_and_nothing_is_written(app: TestApp) {
    let fx = fixtures(&app).await;
    let cases = cases(&fx);
    assert!(cases.len() >= 40, "{} cases", cases.len());
    let total = cases.len();
    let mut failures = Vec::new();
    for case in cases {
        let before = app.row_counts().await;
        let outcome = send(&app, case.call).await;
        let after = app.row_counts().await;
        match outcome {
            Ok(()) => failures.push(format!("{}: accepted", case.what)),
            Err(status) if status.code() != Code::InvalidArgument => {
                failures.push(format!("{}: {status:?}", case.what))
            }
            Err(status) => {
                let fields = violated_fields(&status);
                if fields != case.fields {
                    failures.push(format!(
                        "{}: named {fields:?}, expected {:?} ({})",
                        case.what,
                        case.fields,
                        status.message()
                    ));
                }
                if status.message().len() > MAX_ERROR_MESSAGE_BYTES {
                    failures.push(format!(
                        "{}: a message of {} bytes",
                        case.what,
                        status.message().len()
                    ));
                }
            }
        }
        if after != before {
            failures.push(format!("{}: wrote {before:?} -> {after:?}", case.what));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} bad inputs were not refused as they should be:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn a_request_over_the_message_limit_is_refused_out_of_range_and_nothing_is_written(
    app: TestApp,
) {
    app.create_account("acme", pb::Plan::Business).await;
    let before = app.row_counts().await;
    let mut ticket = chat_ticket("acme");
    ticket.description = "x".repeat(ticketd::config::DEFAULT_MAX_MESSAGE_BYTES + 1);
    let status = app.create_ticket(ticket).await.expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(
        status.message().contains("too large"),
        "says why: {status:?}"
    );

    // PolicyService has the same limit.
    let status = app
        .policy
        .clone()
        .check_channel(pb::CheckChannelRequest {
            account: account(&"a".repeat(ticketd::config::DEFAULT_MAX_MESSAGE_BYTES)),
            plan: 0,
            channel: pb::Channel::Chat.into(),
        })
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");

    assert_eq!(app.row_counts().await, before, "nothing written");
    // The connection is still good for requests within the limit.
    app.create_ticket(chat_ticket("acme")).await.unwrap();
}

async fn the_largest_valid_ticket_fits_within_the_default_message_limit(app: TestApp) {
    app.create_account("acme", pb::Plan::Business).await;
    let mut ticket = chat_ticket("acme");
    // Every text field at its limit, in 4-byte characters where allowed.
    ticket.subject = "🎥".repeat(200);
    ticket.description = "🎥".repeat(20_000);
    chat(&mut ticket).chat_session_id = "🎥".repeat(128);
    chat(&mut ticket).transcript_uri = format!("https://{}", "🎥".repeat(2_040));
    chat(&mut ticket).first_message = "🎥".repeat(20_000);
    ticket.request_id = "r".repeat(64);
    assert!(ticket.encoded_len() > 160_000, "{}", ticket.encoded_len());
    let stored = app.create_ticket(ticket).await.unwrap();
    assert_eq!(stored.description.chars().count(), 20_000);
}

on_every_store!(
    every_bad_input_is_refused_naming_its_field_and_nothing_is_written,
    a_request_over_the_message_limit_is_refused_out_of_range_and_nothing_is_written,
    the_largest_valid_ticket_fits_within_the_default_message_limit,
);

/// The limit is not the store's business: one store will do.
#[tokio::test]
async fn a_configured_message_limit_replaces_the_default_on_both_services() {
    let app = spawn_app_with(Backend::Sqlite, |config| config.max_message_bytes = 4_096).await;
    app.create_account("acme", pb::Plan::Business).await;
    let before = app.row_counts().await;
    let mut ticket = chat_ticket("acme");
    ticket.description = "x".repeat(5_000);
    let status = app.create_ticket(ticket).await.expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(
        status.message().contains("4096"),
        "names the limit: {status:?}"
    );
    let status = app
        .policy
        .clone()
        .check_channel(pb::CheckChannelRequest {
            account: account(&"a".repeat(5_000)),
            plan: 0,
            channel: pb::Channel::Chat.into(),
        })
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert_eq!(app.row_counts().await, before, "nothing written");
}
