//! Hostile and malformed input, RPC by RPC. Each bad request is refused with
//! INVALID_ARGUMENT, its BadRequest names the bad field, and no table of the
//! database gains or loses a row. Requests over the message size limit are
//! refused before they are read.
//!
//! The cases are listed area by area, one file each; the one test per store
//! runs them all.

use prost::Message;
use prost::bytes::{Buf, BufMut};
use ticketd::proto::pb;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::helpers::*;
use crate::support::rpcs::{Call, Clients};

mod accounts;
mod actions;
mod compliance;
mod deadlines;
mod intake;
mod policy;
mod surveys;
mod tickets;
mod watch;

/// What a case sends.
enum Input {
    /// A call through the generated clients.
    Call(Call),
    /// Bytes no generated client sends (invalid UTF-8, a cut-off field), to
    /// a method path.
    Raw(&'static str, Vec<u8>),
}

impl From<Call> for Input {
    fn from(call: Call) -> Self {
        Input::Call(call)
    }
}

impl Input {
    /// The method the input goes to, as the contract names it.
    fn method(&self) -> &'static str {
        match self {
            Input::Call(call) => call.method(),
            Input::Raw(path, _) => path.rsplit('/').next().unwrap_or(path),
        }
    }
}

struct Case {
    what: &'static str,
    call: Input,
    /// The fields the BadRequest must name, in order.
    fields: &'static [&'static str],
}

async fn send(app: &TestApp, input: Input) -> Result<(), Status> {
    match input {
        Input::Call(call) => {
            let mut clients = Clients {
                tickets: app.tickets.clone(),
                policy: app.policy.clone(),
            };
            call.send(&mut clients).await
        }
        Input::Raw(path, body) => send_raw(app, path, body).await,
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
    app.acknowledge(&resolved, "ana", pb::NotificationMethod::Email)
        .await
        .unwrap();
    let survey_token = app.resolve(&resolved, "").await.unwrap().survey_token;
    let service_request = app
        .tickets
        .clone()
        .create_service_request(training_request("acme"))
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

/// Every case, area by area.
fn cases(fx: &Fixtures) -> Vec<Case> {
    [
        accounts::cases(),
        intake::cases(),
        tickets::cases(),
        actions::cases(fx),
        surveys::cases(fx),
        deadlines::cases(),
        compliance::cases(),
        watch::cases(),
        policy::cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// The methods whose requests have no field to get wrong.
const NOTHING_TO_REFUSE: &[&str] = &["GetPolicy"];

/// Every method of the contract (the shared RPC list is checked against it)
/// has a bad input here, or is listed as having nothing to refuse, so a new
/// RPC cannot arrive without its cases.
#[test]
fn every_method_of_the_contract_has_bad_input_cases() {
    let fx = Fixtures {
        open_ticket: "tickets/1".into(),
        resolved_ticket: "tickets/2".into(),
        survey_token: "token".into(),
        service_request: "serviceRequests/1".into(),
    };
    let covered: std::collections::BTreeSet<String> = cases(&fx)
        .iter()
        .map(|case| case.call.method())
        .chain(NOTHING_TO_REFUSE.iter().copied())
        .map(str::to_owned)
        .collect();
    assert_eq!(crate::support::rpcs::methods(), covered);
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

/// A ticket whose description is `description_bytes` long and a
/// CheckChannel whose account name is `account_bytes` long are both refused
/// OUT_OF_RANGE, the ticket's refusal saying `says` (`why` it should), and
/// nothing is written.
async fn refused_on_both_services(
    app: &TestApp,
    description_bytes: usize,
    account_bytes: usize,
    says: &str,
    why: &str,
) {
    app.create_account("acme", pb::Plan::Business).await;
    let before = app.row_counts().await;
    let mut ticket = chat_ticket("acme");
    ticket.description = "x".repeat(description_bytes);
    let status = app.create_ticket(ticket).await.expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert!(status.message().contains(says), "{why}: {status:?}");
    let status = app
        .check_channel(pb::CheckChannelRequest {
            account: account(&"a".repeat(account_bytes)),
            plan: 0,
            channel: pb::Channel::Chat.into(),
        })
        .await
        .expect_err("too large");
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");
    assert_eq!(app.row_counts().await, before, "nothing written");
}

async fn a_request_over_the_message_limit_is_refused_out_of_range_and_nothing_is_written(
    app: TestApp,
) {
    let limit = ticketd::config::DEFAULT_MAX_MESSAGE_BYTES;
    // PolicyService has the same limit.
    refused_on_both_services(&app, limit + 1, limit, "too large", "says why").await;
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
    refused_on_both_services(&app, 5_000, 5_000, "4096", "names the limit").await;
}
