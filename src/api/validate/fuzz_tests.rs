//! Property tests of request validation. Whatever arrives, as bytes or as
//! hostile field values: decoding and validation never panic, and every
//! refusal is an INVALID_ARGUMENT whose BadRequest names each bad field and
//! stays small enough for HTTP/2 trailers. No validator answers anything
//! else: those that consult the policy (CreateTicket's support line,
//! ComputeDeadline's range) report what they find as field violations too.

use proptest::prelude::*;
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use prost_types::{Duration, FieldMask, Timestamp};
use tonic::Code;
use tonic_types::StatusExt;

use super::*;
use crate::api::codec::decode_error_status;
use crate::api::page_token;
use crate::domain::policy::Policy;
use crate::proto::pb;

/// What a refusal's message may weigh. It travels in `grpc-message`, again
/// inside `grpc-status-details-bin` with the violations, and clients cap
/// trailers (8 KiB by default in gRPC's C core, which the Python client
/// uses). The worst found is ~1.3 KB (a watch with 16 bad filter values).
const MAX_MESSAGE_BYTES: usize = 2_048;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // Failures print the shrunk input; no regression files in src/.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Fails the case unless `result` is Ok or a well-formed INVALID_ARGUMENT.
fn check<T>(rpc: &str, result: crate::error::Result<T>) -> Option<T> {
    let err = match result {
        Ok(value) => return Some(value),
        Err(err) => err,
    };
    let violations = match &err {
        Error::InvalidArgument(violations) => violations.len(),
        other => panic!("{rpc}: refused with {other:?}, not InvalidArgument"),
    };
    let status = tonic::Status::from(err);
    assert_eq!(status.code(), Code::InvalidArgument, "{rpc}: {status:?}");
    let bad_request = status
        .get_details_bad_request()
        .unwrap_or_else(|| panic!("{rpc}: no BadRequest in {status:?}"));
    assert_eq!(bad_request.field_violations.len(), violations, "{rpc}");
    assert!(
        (1..=MAX_VIOLATIONS).contains(&violations),
        "{rpc}: {violations} violations"
    );
    for violation in &bad_request.field_violations {
        assert!(!violation.field.is_empty(), "{rpc}: unnamed field");
        assert!(!violation.description.is_empty(), "{rpc}: {violation:?}");
    }
    assert!(
        status.message().len() <= MAX_MESSAGE_BYTES,
        "{rpc}: a message of {} bytes",
        status.message().len()
    );
    None
}

fn check_page_size(rpc: &str, size: i64) {
    assert!(
        (1..=MAX_PAGE_SIZE).contains(&size),
        "{rpc}: page size {size}"
    );
}

/// A request type with the validation its handler runs before anything else.
trait Validate: Message + Default {
    fn validate(self);
}

macro_rules! validators {
    ($($ty:ident => |$r:ident| $body:expr;)+) => {
        $(impl Validate for pb::$ty {
            fn validate(self) {
                let $r = self;
                $body
            }
        })+

        /// Decodes `bytes` as every request type and validates what decodes.
        fn decode_and_validate_all(bytes: &[u8]) {
            $(decode_and_validate::<pb::$ty>(bytes);)+
        }

        /// The request types listed, checked against the contract.
        const VALIDATED: &[&str] = &[$(stringify!($ty)),+];
    };
}

fn policy() -> &'static Policy {
    static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    POLICY.get_or_init(Policy::standard)
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_795_856_400, 0).expect("a valid instant")
}

/// Page tokens are checked by the handlers right after validation.
fn check_token(rpc: &str, token: &str) {
    check(rpc, page_token::decode(token, page_token::fingerprint(rpc)));
}

validators! {
    CreateAccountRequest => |r| { check("CreateAccount", create_account(r)); };
    GetAccountRequest => |r| { check("GetAccount", account_name("name", &r.name)); };
    UpdateAccountRequest => |r| { check("UpdateAccount", update_account(r)); };
    ListAccountsRequest => |r| {
        check_token("ListAccounts", &r.page_token);
        if let Some(size) = check("ListAccounts", list_accounts_page_size(r.page_size)) {
            check_page_size("ListAccounts", size);
        }
    };
    CreateTicketRequest => |r| { check("CreateTicket", create_ticket(r, policy())); };
    GetTicketRequest => |r| { check("GetTicket", ticket_name(&r.name)); };
    ListTicketsRequest => |r| {
        check_token("ListTickets", &r.page_token);
        if let Some(listing) = check("ListTickets", list_tickets(&r)) {
            check_page_size("ListTickets", listing.page_size);
        }
    };
    AcknowledgeTicketRequest => |r| { check("AcknowledgeTicket", acknowledge(r)); };
    UpdateTicketStatusRequest => |r| { check("UpdateTicketStatus", update_status(r)); };
    ResolveTicketRequest => |r| { check("ResolveTicket", resolve(r)); };
    ReopenTicketRequest => |r| { check("ReopenTicket", reopen(r)); };
    CloseTicketRequest => |r| { check("CloseTicket", close(r)); };
    ReprioritizeTicketRequest => |r| { check("ReprioritizeTicket", reprioritize(r)); };
    ListTicketEventsRequest => |r| {
        check_token("ListTicketEvents", &r.page_token);
        if let Some(listing) = check("ListTicketEvents", list_ticket_events(&r)) {
            check_page_size("ListTicketEvents", listing.page_size);
        }
    };
    AnswerSurveyRequest => |r| { check("AnswerSurvey", answer_survey(r)); };
    ListSurveysRequest => |r| {
        check_token("ListSurveys", &r.page_token);
        if let Some(listing) = check("ListSurveys", list_surveys(&r)) {
            check_page_size("ListSurveys", listing.page_size);
        }
    };
    ListTicketsByDeadlineRequest => |r| {
        check_token("ListTicketsByDeadline", &r.page_token);
        if let Some(listing) = check("ListTicketsByDeadline", list_tickets_by_deadline(&r, now())) {
            check_page_size("ListTicketsByDeadline", listing.page_size);
            assert!(listing.filter.states.len() <= MAX_LIST_VALUES);
        }
    };
    GetComplianceReportRequest => |r| {
        if let Some((start, end)) = check("GetComplianceReport", compliance_period(&r)) {
            assert!(start < end);
        }
    };
    CreateServiceRequestRequest => |r| {
        check("CreateServiceRequest", create_service_request(r));
    };
    GetServiceRequestRequest => |r| {
        check("GetServiceRequest", service_request_name("name", &r.name));
    };
    ListServiceRequestsRequest => |r| {
        check_token("ListServiceRequests", &r.page_token);
        if let Some(listing) = check("ListServiceRequests", list_service_requests(&r)) {
            check_page_size("ListServiceRequests", listing.page_size);
        }
    };
    UpdateServiceRequestStatusRequest => |r| {
        check("UpdateServiceRequestStatus", update_service_request_status(&r));
    };
    WatchSlaStatusRequest => |r| {
        if let Some((filter, _)) = check("WatchSlaStatus", watch_sla_status(&r)) {
            assert!(filter.plans.len() <= MAX_LIST_VALUES);
            assert!(filter.states.len() <= MAX_LIST_VALUES);
        }
    };
    GetPolicyRequest => |_r| {};
    CheckChannelRequest => |r| { check("CheckChannel", check_channel(r)); };
    ClassifyPriorityRequest => |r| { check("ClassifyPriority", classify_priority(r)); };
    ComputeDeadlineRequest => |r| {
        if let Some(q) = check("ComputeDeadline", compute_deadline(r, policy())) {
            assert!(is_timestamp_in_range(&policy().response_due_at(q.plan, q.priority, q.received_at)));
        }
    };
    ValidatePolicyDocumentRequest => |r| {
        check("ValidatePolicyDocument", policy_document(&r));
    };
}

/// What the server does with a message body: decode it (the codec answers a
/// failure), then validate it.
fn decode_and_validate<T: Validate>(bytes: &[u8]) {
    match T::decode(bytes) {
        Ok(request) => request.validate(),
        Err(err) => {
            let status = decode_error_status::<T>(&err);
            assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
            let bad_request = status
                .get_details_bad_request()
                .unwrap_or_else(|| panic!("no BadRequest in {status:?}"));
            assert_eq!(bad_request.field_violations.len(), 1, "{status:?}");
        }
    }
}

/// Protobuf-shaped bytes: a few fields with small tags (every request's
/// fields are there), varints, and length-delimited payloads that are
/// arbitrary bytes or nested fields, so sub-messages decode too.
fn wire_fields(depth: u32) -> BoxedStrategy<Vec<u8>> {
    let leaf = prop_oneof![
        (1u32..10, any::<u64>()).prop_map(|(tag, n)| {
            let mut out = Vec::new();
            encode_key(tag, WireType::Varint, &mut out);
            encode_varint(n, &mut out);
            out
        }),
        (1u32..10, prop::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(tag, bytes)| delimited(tag, &bytes)),
    ];
    let field = if depth == 0 {
        leaf.boxed()
    } else {
        prop_oneof![
            3 => leaf,
            1 => (1u32..10, wire_fields(depth - 1)).prop_map(|(tag, inner)| delimited(tag, &inner)),
        ]
        .boxed()
    };
    prop::collection::vec(field, 0..8)
        .prop_map(|fields| fields.concat())
        .boxed()
}

fn delimited(tag: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_key(tag, WireType::LengthDelimited, &mut out);
    encode_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

/// Strings a hostile or careless client sends: any Unicode (control
/// characters included), lengths around every limit, and well-formed values
/// (and their near misses) so validation gets past the first check.
fn text() -> impl Strategy<Value = String> {
    let plausible = prop::sample::select(vec![
        "accounts/acme",
        "accounts/Acme",
        "accounts/",
        "tickets/1",
        "tickets/-1",
        "tickets/99999999999999999999",
        "tickets/67e55044-10b1-426f-9247-bb680e5fe0c8",
        "serviceRequests/3",
        "+14155550123",
        "+18887999666",
        "+611800768027",
        "ana@example.com",
        "ana@example",
        "https://chat.example.com/s/1",
        "display_name",
        "plan",
        "v1.12.34",
        "retry-1:a_b.c",
        " ",
        "a\u{0}b",
        "\u{202e}evil",
    ])
    .prop_map(str::to_owned);
    prop_oneof![
        3 => any::<String>(),
        2 => "[ -~]{0,16}",
        3 => plausible,
        1 => (any::<char>(), 0..21_000usize).prop_map(|(c, n)| c.to_string().repeat(n)),
        1 => any::<String>().prop_map(|s| format!("accounts/{s}")),
        1 => any::<String>().prop_map(|s| format!("tickets/{s}")),
    ]
}

/// Enum numbers: known ones, UNSPECIFIED, and anything else.
fn number() -> impl Strategy<Value = i32> {
    prop_oneof![4 => -1..10i32, 1 => any::<i32>()]
}

fn page_size() -> impl Strategy<Value = i32> {
    prop_oneof![-2..600i32, any::<i32>()]
}

fn timestamp() -> impl Strategy<Value = Option<Timestamp>> {
    prop::option::of(
        (
            prop_oneof![
                -62_135_596_900i64..-62_135_596_700,
                0i64..2_000_000_000,
                253_402_000_000i64..253_402_400_000,
                any::<i64>(),
            ],
            prop_oneof![0..1_000_000_000i32, any::<i32>()],
        )
            .prop_map(|(seconds, nanos)| Timestamp { seconds, nanos }),
    )
}

fn duration() -> impl Strategy<Value = Option<Duration>> {
    prop::option::of(
        (
            prop_oneof![-10i64..40_000_000, any::<i64>()],
            prop_oneof![0..1_000_000_000i32, any::<i32>()],
        )
            .prop_map(|(seconds, nanos)| Duration { seconds, nanos }),
    )
}

/// Field values to build every request type from.
#[derive(Debug, Clone)]
struct Soup {
    text: [String; 10],
    numbers: [i32; 6],
    lists: [Vec<i32>; 4],
    paths: Vec<String>,
    page_size: i32,
    times: [Option<Timestamp>; 2],
    window: Option<Duration>,
    origin: u8,
    has_impact: bool,
}

fn soup() -> impl Strategy<Value = Soup> {
    (
        prop::array::uniform::<_, 10>(text()),
        prop::array::uniform::<_, 6>(number()),
        prop::array::uniform::<_, 4>(prop::collection::vec(number(), 0..12)),
        prop::collection::vec(text(), 0..12),
        page_size(),
        prop::array::uniform::<_, 2>(timestamp()),
        duration(),
        0u8..4,
        any::<bool>(),
    )
        .prop_map(
            |(text, numbers, lists, paths, page_size, times, window, origin, has_impact)| Soup {
                text,
                numbers,
                lists,
                paths,
                page_size,
                times,
                window,
                origin,
                has_impact,
            },
        )
}

/// Builds one request of every type from `s` and validates each.
fn validate_every_request(s: &Soup) {
    use pb::create_ticket_request::Origin;
    let t = |i: usize| s.text[i].clone();
    let [n0, n1, n2, n3, n4, n5] = s.numbers;
    let impact = s.has_impact.then_some(pb::Impact {
        kind: n0,
        scope: n1,
        workaround: n2,
    });
    let account = pb::Account {
        name: t(0),
        display_name: t(1),
        plan: n3,
        create_time: s.times[0],
        update_time: s.times[1],
    };

    pb::CreateAccountRequest {
        account_id: t(0),
        account: Some(account.clone()),
    }
    .validate();
    pb::GetAccountRequest { name: t(2) }.validate();
    pb::UpdateAccountRequest {
        account: Some(account),
        update_mask: (!s.paths.is_empty()).then(|| FieldMask {
            paths: s.paths.clone(),
        }),
    }
    .validate();
    pb::ListAccountsRequest {
        page_size: s.page_size,
        page_token: t(3),
    }
    .validate();
    pb::CreateTicketRequest {
        account: t(0),
        origin: match s.origin {
            0 => None,
            1 => Some(Origin::WebForm(pb::WebFormSubmission {
                contact_email: t(1),
                contact_name: t(2),
            })),
            2 => Some(Origin::Chat(pb::ChatSession {
                chat_session_id: t(1),
                transcript_uri: t(2),
                first_message: t(3),
            })),
            _ => Some(Origin::PhoneCall(pb::PhoneCall {
                call_id: t(1),
                caller_number: t(2),
                dialed_number: t(3),
                region: n4,
            })),
        },
        subject: t(4),
        description: t(5),
        impact,
        request_id: t(6),
    }
    .validate();
    pb::GetTicketRequest { name: t(0) }.validate();
    pb::ListTicketsRequest {
        page_size: s.page_size,
        page_token: t(1),
        account: t(2),
        channel: n0,
        priority: n1,
        status: n2,
    }
    .validate();
    pb::AcknowledgeTicketRequest {
        name: t(0),
        responder: t(1),
        method: n0,
    }
    .validate();
    pb::UpdateTicketStatusRequest {
        name: t(0),
        status: n1,
        actor: t(1),
        note: t(2),
    }
    .validate();
    pb::ResolveTicketRequest {
        name: t(0),
        actor: t(1),
        note: t(2),
    }
    .validate();
    pb::ReopenTicketRequest {
        name: t(0),
        actor: t(1),
        reason: t(2),
    }
    .validate();
    pb::CloseTicketRequest {
        name: t(0),
        actor: t(1),
    }
    .validate();
    pb::ReprioritizeTicketRequest {
        name: t(0),
        priority: n2,
        actor: t(1),
        reason: t(2),
    }
    .validate();
    pb::ListTicketEventsRequest {
        name: t(0),
        page_size: s.page_size,
        page_token: t(1),
    }
    .validate();
    pb::AnswerSurveyRequest {
        token: t(7),
        rating: n3,
        comment: t(8),
    }
    .validate();
    pb::ListSurveysRequest {
        ticket: t(0),
        answered_only: s.has_impact,
        page_size: s.page_size,
        page_token: t(1),
    }
    .validate();
    pb::ListTicketsByDeadlineRequest {
        due_within: s.window,
        sla_states: s.lists[0].clone(),
        plan: n0,
        priority: n1,
        channel: n2,
        page_size: s.page_size,
        page_token: t(1),
    }
    .validate();
    pb::GetComplianceReportRequest {
        start_time: s.times[0],
        end_time: s.times[1],
    }
    .validate();
    pb::CreateServiceRequestRequest {
        account: t(0),
        kind: n5,
        summary: t(1),
        details: t(2),
        contact_email: t(3),
        request_id: t(4),
    }
    .validate();
    pb::GetServiceRequestRequest { name: t(9) }.validate();
    pb::ListServiceRequestsRequest {
        page_size: s.page_size,
        page_token: t(1),
        account: t(2),
        kind: n0,
        status: n1,
    }
    .validate();
    pb::UpdateServiceRequestStatusRequest {
        name: t(9),
        status: n4,
    }
    .validate();
    pb::WatchSlaStatusRequest {
        plans: s.lists[0].clone(),
        priorities: s.lists[1].clone(),
        channels: s.lists[2].clone(),
        account: t(0),
        sla_states: s.lists[3].clone(),
        resume_cursor: t(5),
    }
    .validate();
    pb::CheckChannelRequest {
        account: t(0),
        plan: n0,
        channel: n1,
    }
    .validate();
    pb::ClassifyPriorityRequest { impact }.validate();
    pb::ComputeDeadlineRequest {
        plan: n0,
        priority: n1,
        received_at: s.times[0],
    }
    .validate();
    pb::ValidatePolicyDocumentRequest { document: t(5) }.validate();
}

/// Policy documents a careless editor makes: the published one with a
/// stretch of it replaced by hostile text.
fn document() -> impl Strategy<Value = String> {
    const PUBLISHED: &str = include_str!("../../../policy/published.toml");
    (0..PUBLISHED.len(), 0..80usize, text()).prop_map(|(at, len, insert)| {
        let mut start = at;
        while !PUBLISHED.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len).min(PUBLISHED.len());
        while !PUBLISHED.is_char_boundary(end) {
            end += 1;
        }
        format!("{}{insert}{}", &PUBLISHED[..start], &PUBLISHED[end..])
    })
}

/// Every request of TicketService and PolicyService is in the list above,
/// so a new RPC cannot arrive without its request being fuzzed.
#[test]
fn every_request_of_the_contract_is_decoded_and_validated() {
    let set = prost_types::FileDescriptorSet::decode(crate::proto::FILE_DESCRIPTOR_SET)
        .expect("descriptor set decodes");
    let requests: Vec<String> = set
        .file
        .iter()
        .filter(|f| f.package() == "support.v1")
        .flat_map(|f| f.service.iter())
        .filter(|s| ["TicketService", "PolicyService"].contains(&s.name()))
        .flat_map(|s| s.method.iter())
        .map(|m| m.input_type().trim_start_matches(".support.v1.").to_owned())
        .collect();
    assert!(requests.len() > 25, "{requests:?}");
    let missing: Vec<&String> = requests
        .iter()
        .filter(|r| !VALIDATED.contains(&r.as_str()))
        .collect();
    assert!(missing.is_empty(), "not fuzzed: {missing:?}");
}

proptest! {
    #![proptest_config(config(1_000))]

    #[test]
    fn arbitrary_bytes_decode_and_validate_as_every_request_without_panicking(
        bytes in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        decode_and_validate_all(&bytes);
    }

    #[test]
    fn protobuf_shaped_bytes_decode_and_validate_as_every_request_without_panicking(
        bytes in wire_fields(2),
    ) {
        decode_and_validate_all(&bytes);
    }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn hostile_field_values_are_accepted_or_refused_as_invalid_argument(s in soup()) {
        validate_every_request(&s);
    }

    #[test]
    fn edited_policy_documents_are_accepted_or_refused_as_invalid_argument(
        document in document(),
    ) {
        pb::ValidatePolicyDocumentRequest { document }.validate();
    }
}
