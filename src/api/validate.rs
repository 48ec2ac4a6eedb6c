//! Request validation: protobuf requests become domain values, or an
//! INVALID_ARGUMENT listing every bad field by its path in the request.
//! Nothing reaches the store until a request has passed here.

use uuid::Uuid;

use super::convert::{
    channel_from_proto, kind_from_proto, method_from_proto, plan_from_proto, priority_from_proto,
    rating_from_proto, region_from_proto, scope_from_proto, service_kind_from_proto,
    service_status_from_proto, sla_state_from_proto, status_from_proto, workaround_from_proto,
};
use crate::domain::lifecycle::Action;
use crate::domain::listing::{DeadlineFilter, ServiceRequestFilter, TicketFilter};
use crate::domain::policy::Policy;
use crate::domain::priority::{Impact, MissingImpactField};
use crate::domain::service_request::{NewServiceRequest, ServiceRequestStatus};
use crate::domain::sla::SlaState;
use crate::domain::survey::Rating;
use crate::domain::ticket::{
    AccountUpdate, NewAccount, Origin, TicketKey, TicketRequest, TicketStatus,
};
use crate::domain::watch::{LogPosition, WatchFilter};
use crate::error::{Error, FieldViolation, Result};
use crate::proto::pb;

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ID_CHARS: usize = 128;
pub const MAX_URI_CHARS: usize = 2_048;
pub const MAX_REQUEST_ID_CHARS: usize = 64;
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
pub const MAX_PAGE_SIZE: i64 = 500;
/// Most values a repeated field of a request may list (filters, mask
/// paths). Every enum has fewer, so more means duplicates or garbage, and
/// each value could otherwise cost a violation in the answer.
pub const MAX_LIST_VALUES: usize = 8;
/// Most violations one refusal lists. A refusal travels in HTTP/2 trailers,
/// which many clients cap at 8 KiB, and its text is there three times
/// (message, details' message, violations).
pub const MAX_VIOLATIONS: usize = 16;
/// Most characters of a client's value quoted back in an error, and most
/// bytes once control characters are escaped.
const MAX_ECHO_CHARS: usize = 64;
const MAX_ECHO_BYTES: usize = 128;

/// Collects violations so a caller learns about every bad field at once:
/// the first problem of each field, up to [`MAX_VIOLATIONS`] fields.
#[derive(Debug, Default)]
struct Violations(Vec<FieldViolation>);

impl Violations {
    fn add(&mut self, field: &str, description: impl Into<String>) {
        if self.0.len() < MAX_VIOLATIONS && !self.0.iter().any(|v| v.field == field) {
            self.0.push(FieldViolation::new(field, description));
        }
    }

    fn append(&mut self, violations: Vec<FieldViolation>) {
        for violation in violations {
            self.add(&violation.field, violation.description);
        }
    }

    /// A required string: not blank, at most `max` characters.
    fn required(&mut self, field: &str, value: String, max: usize) -> String {
        if is_blank(&value) {
            self.add(field, "is required");
        } else {
            self.check_length(field, &value, max);
        }
        value
    }

    /// An optional string: empty means absent.
    fn optional(&mut self, field: &str, value: String, max: usize) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        if is_blank(&value) {
            self.add(field, "must not be blank when set");
        }
        self.check_length(field, &value, max);
        Some(value)
    }

    /// Length in characters, and no control characters but line breaks and
    /// tabs (a NUL, for one, cannot be stored in PostgreSQL text).
    fn check_length(&mut self, field: &str, value: &str, max: usize) {
        let chars = value.chars().count();
        if chars > max {
            self.add(
                field,
                format!("is {chars} characters; at most {max} allowed"),
            );
        }
        if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            self.add(field, "must not contain control characters");
        }
        if value.chars().any(is_bidi_control) {
            self.add(
                field,
                "must not contain bidirectional embedding, override or isolate characters",
            );
        }
    }

    /// A required enum: UNSPECIFIED and unknown numbers are refused.
    fn required_enum<T>(&mut self, field: &str, raw: i32, from: fn(i32) -> Option<T>) -> Option<T> {
        let value = from(raw);
        if value.is_none() {
            if raw == 0 {
                self.add(field, "is required (UNSPECIFIED is not allowed)");
            } else {
                self.add(field, format!("{raw} is not a known value"));
            }
        }
        value
    }

    /// A filter enum: UNSPECIFIED means "any"; unknown numbers are refused.
    fn filter_enum<T>(&mut self, field: &str, raw: i32, from: fn(i32) -> Option<T>) -> Option<T> {
        if raw == 0 {
            return None;
        }
        self.required_enum(field, raw, from)
    }

    fn into_result(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(Error::InvalidArgument(self.0))
        }
    }
}

/// A client's value for an error message: quoted, control characters
/// escaped, cut to [`MAX_ECHO_CHARS`] and [`MAX_ECHO_BYTES`].
fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for (i, c) in value.chars().enumerate() {
        if i == MAX_ECHO_CHARS || out.len() >= MAX_ECHO_BYTES {
            return format!("{out}\"... ({} characters)", value.chars().count());
        }
        out.extend(c.escape_debug());
    }
    out.push('"');
    out
}

/// `accounts/{id}` → `id`.
fn account_from_name(v: &mut Violations, field: &str, name: &str) -> String {
    match name.strip_prefix("accounts/") {
        Some(id) if is_account_id(id) => id.to_owned(),
        _ if name.is_empty() => {
            v.add(field, "is required");
            String::new()
        }
        _ => {
            v.add(
                field,
                format!("must be accounts/{{account_id}}; got {}", quoted(name)),
            );
            String::new()
        }
    }
}

/// 3–63 lower-case letters, digits and hyphens, starting with a letter and
/// not ending with a hyphen (AIP-122 style ids).
pub fn is_account_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes[0].is_ascii_lowercase()
        && bytes[bytes.len() - 1] != b'-'
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    value.len() <= 254
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// E.164: `+`, then 8–15 digits, the first not 0.
fn is_e164(value: &str) -> bool {
    value.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn is_http_uri(value: &str) -> bool {
    (value.starts_with("https://") || value.starts_with("http://"))
        && value.len() > "https://".len()
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_request_id(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub fn create_account(request: pb::CreateAccountRequest) -> Result<NewAccount> {
    let mut v = Violations::default();
    if request.account_id.is_empty() {
        v.add("account_id", "is required");
    } else if !is_account_id(&request.account_id) {
        v.add(
            "account_id",
            "must be 3-63 lower-case letters, digits or hyphens, start with a letter and not end with a hyphen",
        );
    }
    let account = request.account.unwrap_or_default();
    let display_name = v.required("account.display_name", account.display_name, MAX_NAME_CHARS);
    let plan = v.required_enum("account.plan", account.plan, plan_from_proto);
    v.into_result()?;
    Ok(NewAccount {
        id: request.account_id,
        display_name,
        plan: plan.ok_or_else(|| Error::invalid("account.plan", "is required"))?,
    })
}

pub fn account_name(field: &str, name: &str) -> Result<String> {
    let mut v = Violations::default();
    let id = account_from_name(&mut v, field, name);
    v.into_result().map(|()| id)
}

pub fn update_account(request: pb::UpdateAccountRequest) -> Result<(String, AccountUpdate)> {
    let mut v = Violations::default();
    let account = request.account.unwrap_or_default();
    let id = account_from_name(&mut v, "account.name", &account.name);
    let paths = request.update_mask.map(|m| m.paths).unwrap_or_default();
    let (mut set_name, mut set_plan) = (false, false);
    if paths.len() > MAX_LIST_VALUES {
        v.add(
            "update_mask",
            format!("lists at most {MAX_LIST_VALUES} paths; allowed: display_name, plan"),
        );
    } else if paths.is_empty() {
        set_name = !account.display_name.is_empty();
        set_plan = account.plan != 0;
        if !set_name && !set_plan {
            v.add("account", "sets nothing to update");
        }
    }
    for path in paths.iter().take(MAX_LIST_VALUES) {
        match path.as_str() {
            "display_name" => set_name = true,
            "plan" => set_plan = true,
            other => v.add(
                "update_mask",
                format!(
                    "unknown or immutable path {}; allowed: display_name, plan",
                    quoted(other)
                ),
            ),
        }
    }
    let mut update = AccountUpdate::default();
    if set_name {
        update.display_name =
            Some(v.required("account.display_name", account.display_name, MAX_NAME_CHARS));
    }
    if set_plan {
        update.plan = v.required_enum("account.plan", account.plan, plan_from_proto);
    }
    v.into_result()?;
    Ok((id, update))
}

pub fn create_ticket(request: pb::CreateTicketRequest, policy: &Policy) -> Result<TicketRequest> {
    use pb::create_ticket_request::Origin as PbOrigin;
    let mut v = Violations::default();
    let account_id = account_from_name(&mut v, "account", &request.account);
    let subject = v.required("subject", request.subject, MAX_SUBJECT_CHARS);
    let is_web_form = matches!(request.origin, Some(PbOrigin::WebForm(_)));
    let description = if is_web_form {
        v.required("description", request.description, MAX_DESCRIPTION_CHARS)
    } else {
        v.optional("description", request.description, MAX_DESCRIPTION_CHARS)
            .unwrap_or_default()
    };
    let origin = match request.origin {
        None => {
            v.add("origin", "one of web_form, chat or phone_call is required");
            None
        }
        Some(PbOrigin::WebForm(form)) => {
            let contact_email = v.required("web_form.contact_email", form.contact_email, 254);
            if !contact_email.is_empty() && !is_email(&contact_email) {
                v.add("web_form.contact_email", "is not an e-mail address");
            }
            let contact_name =
                v.optional("web_form.contact_name", form.contact_name, MAX_NAME_CHARS);
            Some(Origin::WebForm {
                contact_email,
                contact_name,
            })
        }
        Some(PbOrigin::Chat(chat)) => {
            let session_id = v.required("chat.chat_session_id", chat.chat_session_id, MAX_ID_CHARS);
            let transcript_uri =
                v.optional("chat.transcript_uri", chat.transcript_uri, MAX_URI_CHARS);
            if transcript_uri
                .as_deref()
                .is_some_and(|uri| !is_http_uri(uri))
            {
                v.add("chat.transcript_uri", "must be an http or https URI");
            }
            let first_message = v.optional(
                "chat.first_message",
                chat.first_message,
                MAX_DESCRIPTION_CHARS,
            );
            if transcript_uri.is_none() && first_message.is_none() {
                v.add(
                    "chat.first_message",
                    "is required when chat.transcript_uri is not set",
                );
            }
            Some(Origin::Chat {
                session_id,
                transcript_uri,
                first_message,
            })
        }
        Some(PbOrigin::PhoneCall(call)) => {
            let call_id = v.required("phone_call.call_id", call.call_id, MAX_ID_CHARS);
            let caller_number = v.required("phone_call.caller_number", call.caller_number, 16);
            if !caller_number.is_empty() && !is_e164(&caller_number) {
                v.add(
                    "phone_call.caller_number",
                    "must be an E.164 number, e.g. +14155550123",
                );
            }
            let region = v.required_enum("phone_call.region", call.region, region_from_proto);
            let dialed_number = v.required("phone_call.dialed_number", call.dialed_number, 16);
            if let Some(region) = region
                && !dialed_number.is_empty()
                && !policy.is_support_line(region, &dialed_number)
            {
                v.add(
                    "phone_call.dialed_number",
                    format!(
                        "{} is not a support line for region {region}",
                        quoted(&dialed_number)
                    ),
                );
            }
            region.map(|region| Origin::Phone {
                call_id,
                caller_number,
                dialed_number,
                region,
            })
        }
    };
    let impact = impact(&mut v, "impact.", request.impact);
    let request_id = v.optional("request_id", request.request_id, MAX_REQUEST_ID_CHARS);
    if request_id.as_deref().is_some_and(|id| !is_request_id(id)) {
        v.add(
            "request_id",
            "may hold only letters, digits and - _ . : (a UUID is a good choice)",
        );
    }
    v.into_result()?;
    match (origin, impact) {
        (Some(origin), Some(impact)) => Ok(TicketRequest {
            account_id,
            origin,
            subject,
            description,
            impact,
            request_id,
        }),
        // Every `None` above recorded a violation, so into_result returned.
        _ => Err(Error::Internal(
            "validation let an incomplete ticket through".into(),
        )),
    }
}

/// `prefix` is the path of the Impact message in its request, e.g. `impact.`.
fn impact(v: &mut Violations, prefix: &str, impact: Option<pb::Impact>) -> Option<Impact> {
    let field = |name: &str| format!("{prefix}{name}");
    let Some(impact) = impact else {
        v.add(prefix.trim_end_matches('.'), "is required");
        return None;
    };
    let kind = v.required_enum(&field("kind"), impact.kind, kind_from_proto)?;
    // Irrelevant fields are ignored, but an unknown number is still an error.
    let scope = v.filter_enum(&field("scope"), impact.scope, scope_from_proto);
    let workaround = v.filter_enum(
        &field("workaround"),
        impact.workaround,
        workaround_from_proto,
    );
    match Impact::new(kind, scope, workaround) {
        Ok(impact) => Some(impact),
        Err(MissingImpactField::Scope) if impact.scope == 0 => {
            v.add(&field("scope"), "is required when kind is PROBLEM");
            None
        }
        Err(MissingImpactField::Workaround) if impact.workaround == 0 => {
            v.add(
                &field("workaround"),
                "is required when scope is SERVICE_DOWN or DEGRADED",
            );
            None
        }
        // An unknown number, already reported by filter_enum.
        Err(_) => None,
    }
}

pub fn classify_priority(request: pb::ClassifyPriorityRequest) -> Result<Impact> {
    let mut v = Violations::default();
    let impact = impact(&mut v, "impact.", request.impact);
    v.into_result()?;
    impact.ok_or_else(|| Error::invalid("impact", "is required"))
}

fn ticket_key(v: &mut Violations, name: &str) -> Option<TicketKey> {
    match ticket_name(name) {
        Ok(key) => Some(key),
        Err(Error::InvalidArgument(violations)) => {
            v.append(violations);
            None
        }
        Err(_) => None,
    }
}

const MAX_NOTE_CHARS: usize = 2_000;

/// Builds an agent action from its request, reporting every bad field.
fn action(
    name: &str,
    build: impl FnOnce(&mut Violations) -> Option<Action>,
) -> Result<(TicketKey, Action)> {
    let mut v = Violations::default();
    let key = ticket_key(&mut v, name);
    let action = build(&mut v);
    v.into_result()?;
    match (key, action) {
        (Some(key), Some(action)) => Ok((key, action)),
        _ => Err(Error::Internal(
            "validation let an incomplete action through".into(),
        )),
    }
}

pub fn acknowledge(request: pb::AcknowledgeTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let responder = v.required("responder", request.responder, MAX_NAME_CHARS);
        let method = v.required_enum("method", request.method, method_from_proto);
        method.map(|method| Action::Acknowledge { responder, method })
    })
}

pub fn update_status(request: pb::UpdateTicketStatusRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let to = v.required_enum("status", request.status, status_from_proto);
        let to = to.filter(|to| {
            let allowed = matches!(to, TicketStatus::InProgress | TicketStatus::WaitingOnCustomer);
            if !allowed {
                v.add(
                    "status",
                    "must be TICKET_STATUS_IN_PROGRESS or TICKET_STATUS_WAITING_ON_CUSTOMER; \
                     use AcknowledgeTicket, ResolveTicket, ReopenTicket or CloseTicket for the others",
                );
            }
            allowed
        });
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let note = v.optional("note", request.note, MAX_NOTE_CHARS);
        to.map(|to| Action::SetStatus { to, actor, note })
    })
}

pub fn resolve(request: pb::ResolveTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let note = v.optional("note", request.note, MAX_NOTE_CHARS);
        Some(Action::Resolve { actor, note })
    })
}

pub fn reopen(request: pb::ReopenTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let reason = v.optional("reason", request.reason, MAX_NOTE_CHARS);
        Some(Action::Reopen { actor, reason })
    })
}

pub fn close(request: pb::CloseTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        Some(Action::Close { actor })
    })
}

pub fn reprioritize(request: pb::ReprioritizeTicketRequest) -> Result<(TicketKey, Action)> {
    action(&request.name, |v| {
        let priority = v.required_enum("priority", request.priority, priority_from_proto);
        let actor = v.required("actor", request.actor, MAX_NAME_CHARS);
        let reason = v.required("reason", request.reason, MAX_NOTE_CHARS);
        priority.map(|priority| Action::Reprioritize {
            priority,
            actor,
            reason,
        })
    })
}

pub fn create_service_request(
    request: pb::CreateServiceRequestRequest,
) -> Result<NewServiceRequest> {
    let mut v = Violations::default();
    let account_id = account_from_name(&mut v, "account", &request.account);
    let kind = v.required_enum("kind", request.kind, service_kind_from_proto);
    let summary = v.required("summary", request.summary, MAX_SUBJECT_CHARS);
    let details = v
        .optional("details", request.details, MAX_DESCRIPTION_CHARS)
        .unwrap_or_default();
    let contact_email = v.required("contact_email", request.contact_email, 254);
    if !contact_email.is_empty() && !is_email(&contact_email) {
        v.add("contact_email", "is not an e-mail address");
    }
    let request_id = v.optional("request_id", request.request_id, MAX_REQUEST_ID_CHARS);
    if request_id.as_deref().is_some_and(|id| !is_request_id(id)) {
        v.add("request_id", "may hold only letters, digits and - _ . :");
    }
    v.into_result()?;
    kind.map(|kind| NewServiceRequest {
        account_id,
        kind,
        summary,
        details,
        contact_email,
        request_id,
    })
    .ok_or_else(|| Error::Internal("validation let a bad request through".into()))
}

/// `serviceRequests/{number}` → number.
pub fn service_request_name(field: &str, name: &str) -> Result<i64> {
    name.strip_prefix("serviceRequests/")
        .filter(|n| !n.is_empty() && n.len() <= 18 && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!("must be serviceRequests/{{number}}; got {}", quoted(name)),
            )
        })
}

pub struct ServiceRequestListing {
    pub filter: ServiceRequestFilter,
    pub page_size: i64,
}

pub fn list_service_requests(
    request: &pb::ListServiceRequestsRequest,
) -> Result<ServiceRequestListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let account_id = if request.account.is_empty() {
        None
    } else {
        Some(account_from_name(&mut v, "account", &request.account))
    };
    let filter = ServiceRequestFilter {
        account_id,
        kind: v.filter_enum("kind", request.kind, service_kind_from_proto),
        status: v.filter_enum("status", request.status, service_status_from_proto),
    };
    v.into_result()?;
    Ok(ServiceRequestListing { filter, page_size })
}

pub fn update_service_request_status(
    request: &pb::UpdateServiceRequestStatusRequest,
) -> Result<(i64, ServiceRequestStatus)> {
    let mut v = Violations::default();
    let number = match service_request_name("name", &request.name) {
        Ok(number) => Some(number),
        Err(Error::InvalidArgument(violations)) => {
            v.append(violations);
            None
        }
        Err(_) => None,
    };
    let status = v.required_enum("status", request.status, service_status_from_proto);
    v.into_result()?;
    number
        .zip(status)
        .ok_or_else(|| Error::Internal("validation let a bad request through".into()))
}

/// Within google.protobuf.Timestamp's range (and so every store's).
pub fn is_timestamp_in_range(at: &chrono::DateTime<chrono::Utc>) -> bool {
    (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&at.timestamp())
}

fn timestamp_field(
    v: &mut Violations,
    field: &str,
    ts: Option<prost_types::Timestamp>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let Some(ts) = ts else {
        v.add(field, "is required");
        return None;
    };
    let at = u32::try_from(ts.nanos)
        .ok()
        .filter(|nanos| *nanos < 1_000_000_000)
        .filter(|_| (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&ts.seconds))
        .and_then(|nanos| chrono::DateTime::from_timestamp(ts.seconds, nanos));
    if at.is_none() {
        v.add(
            field,
            "must be a valid timestamp between 0001-01-01 and 9999-12-31",
        );
    }
    at
}

pub fn compliance_period(
    request: &pb::GetComplianceReportRequest,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let mut v = Violations::default();
    let start = timestamp_field(&mut v, "start_time", request.start_time);
    let end = timestamp_field(&mut v, "end_time", request.end_time);
    if let (Some(start), Some(end)) = (start, end) {
        if end <= start {
            v.add("end_time", "must be after start_time");
        } else if end - start > chrono::Duration::days(366) {
            v.add("end_time", "the period may be at most 366 days");
        }
    }
    v.into_result()?;
    start
        .zip(end)
        .ok_or_else(|| Error::Internal("validation let a bad period through".into()))
}

pub struct SurveyAnswerRequest {
    pub token: String,
    pub rating: Rating,
    pub comment: Option<String>,
}

pub fn answer_survey(request: pb::AnswerSurveyRequest) -> Result<SurveyAnswerRequest> {
    let mut v = Violations::default();
    let token = v.required("token", request.token, 64);
    let rating = v.required_enum("rating", request.rating, rating_from_proto);
    let comment = v.optional("comment", request.comment, MAX_NOTE_CHARS);
    v.into_result()?;
    rating
        .map(|rating| SurveyAnswerRequest {
            token,
            rating,
            comment,
        })
        .ok_or_else(|| Error::Internal("validation let a bad answer through".into()))
}

pub struct SurveyListing {
    pub ticket: Option<TicketKey>,
    pub page_size: i64,
}

pub fn list_surveys(request: &pb::ListSurveysRequest) -> Result<SurveyListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let ticket = if request.ticket.is_empty() {
        None
    } else {
        match ticket_name(&request.ticket) {
            Ok(key) => Some(key),
            Err(_) => {
                v.add("ticket", "must be tickets/{uuid} or tickets/{number}");
                None
            }
        }
    };
    v.into_result()?;
    Ok(SurveyListing { ticket, page_size })
}

pub struct EventListing {
    pub key: TicketKey,
    pub page_size: i64,
}

pub fn list_ticket_events(request: &pb::ListTicketEventsRequest) -> Result<EventListing> {
    let mut v = Violations::default();
    let key = ticket_key(&mut v, &request.name);
    let page_size = page_size(&mut v, request.page_size);
    v.into_result()?;
    key.map(|key| EventListing { key, page_size })
        .ok_or_else(|| Error::Internal("validation let a bad name through".into()))
}

pub struct DeadlineListing {
    pub filter: DeadlineFilter,
    pub page_size: i64,
    /// Identifies the filters (not the moment) for page tokens.
    pub fingerprint: String,
}

pub fn list_tickets_by_deadline(
    request: &pb::ListTicketsByDeadlineRequest,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<DeadlineListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let due_within = request.due_within.and_then(|d| {
        if !(0..=366 * 24 * 3600).contains(&d.seconds) || !(0..1_000_000_000).contains(&d.nanos) {
            v.add("due_within", "must be a duration between 0 and 366 days");
            None
        } else {
            Some(
                chrono::Duration::seconds(d.seconds)
                    + chrono::Duration::nanoseconds(d.nanos.into()),
            )
        }
    });
    let mut states = Vec::new();
    if request.sla_states.len() > MAX_LIST_VALUES {
        v.add(
            "sla_states",
            format!("lists at most {MAX_LIST_VALUES} values"),
        );
    } else {
        for (i, raw) in request.sla_states.iter().enumerate() {
            let field = format!("sla_states[{i}]");
            match sla_state_from_proto(*raw) {
                Some(state) if states.contains(&state) => v.add(&field, "is listed twice"),
                Some(state @ (SlaState::OnTrack | SlaState::AtRisk | SlaState::Breached)) => {
                    states.push(state)
                }
                Some(_) => v.add(
                    &field,
                    "MET and MISSED tickets have been answered; use ListTickets",
                ),
                None => v.add(
                    &field,
                    format!("{raw} is not ON_TRACK, AT_RISK or BREACHED"),
                ),
            }
        }
    }
    let filter = DeadlineFilter {
        now,
        due_within,
        states,
        plan: v.filter_enum("plan", request.plan, plan_from_proto),
        priority: v.filter_enum("priority", request.priority, priority_from_proto),
        channel: v.filter_enum("channel", request.channel, channel_from_proto),
    };
    v.into_result()?;
    let fingerprint = format!(
        "deadline {:?} {:?} {:?} {:?} {:?}",
        filter.due_within, filter.states, filter.plan, filter.priority, filter.channel
    );
    Ok(DeadlineListing {
        filter,
        page_size,
        fingerprint,
    })
}

/// A watch's filter, and the position to resume after when a cursor is given.
pub fn watch_sla_status(
    request: &pb::WatchSlaStatusRequest,
) -> Result<(WatchFilter, Option<LogPosition>)> {
    fn each<T: PartialEq>(
        v: &mut Violations,
        field: &str,
        raw: &[i32],
        from: fn(i32) -> Option<T>,
    ) -> Vec<T> {
        if raw.len() > MAX_LIST_VALUES {
            v.add(field, format!("lists at most {MAX_LIST_VALUES} values"));
            return Vec::new();
        }
        let mut values = Vec::new();
        for (i, value) in raw.iter().enumerate() {
            match from(*value) {
                Some(value) if !values.contains(&value) => values.push(value),
                Some(_) => v.add(&format!("{field}[{i}]"), "is listed twice"),
                None => v.add(
                    &format!("{field}[{i}]"),
                    format!("{value} is not a known value (UNSPECIFIED is not a filter)"),
                ),
            }
        }
        values
    }
    let mut v = Violations::default();
    let filter = WatchFilter {
        plans: each(&mut v, "plans", &request.plans, plan_from_proto),
        channels: each(&mut v, "channels", &request.channels, channel_from_proto),
        priorities: each(
            &mut v,
            "priorities",
            &request.priorities,
            priority_from_proto,
        ),
        account_id: (!request.account.is_empty())
            .then(|| account_from_name(&mut v, "account", &request.account)),
        states: each(
            &mut v,
            "sla_states",
            &request.sla_states,
            sla_state_from_proto,
        ),
    };
    let resume = if request.resume_cursor.is_empty() {
        None
    } else {
        let position = crate::watch::cursor::decode(&request.resume_cursor);
        if position.is_none() {
            v.add(
                "resume_cursor",
                "is not a cursor this server sent; leave it empty to start with a snapshot",
            );
        }
        position
    };
    v.into_result()?;
    Ok((filter, resume))
}

pub fn ticket_name(name: &str) -> Result<TicketKey> {
    let key = name.strip_prefix("tickets/").and_then(|id| {
        if let Ok(uuid) = Uuid::parse_str(id) {
            Some(TicketKey::Id(uuid))
        } else if !id.is_empty()
            && id.len() <= 18
            && id.bytes().all(|b| b.is_ascii_digit())
            // One name per ticket: tickets/0042 is not tickets/42.
            && (id == "0" || !id.starts_with('0'))
        {
            id.parse().ok().map(TicketKey::Number)
        } else {
            None
        }
    });
    key.ok_or_else(|| {
        if name.is_empty() {
            Error::invalid("name", "is required")
        } else {
            Error::invalid(
                "name",
                format!(
                    "must be tickets/{{uuid}} or tickets/{{number}}; got {}",
                    quoted(name)
                ),
            )
        }
    })
}

/// Nothing a reader would see: whitespace and zero-width characters only.
fn is_blank(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_whitespace() || is_zero_width(c) || is_bidi_control(c))
}

/// Characters that take no space: a subject of only these looks empty.
/// The left-to-right and right-to-left marks are among them, and allowed
/// in text, where right-to-left scripts need them.
fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{115F}'..='\u{1160}' // Hangul fillers
            | '\u{17B4}'..='\u{17B5}' // Khmer inherent vowels
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}'..='\u{200F}' // zero-width space, (non-)joiner, LRM, RLM
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{3164}' // Hangul filler
            | '\u{FEFF}' // zero-width no-break space
            | '\u{FFA0}' // halfwidth Hangul filler
    )
}

/// Embeddings, overrides and isolates reorder what follows them, so text
/// can read differently from what it holds (CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// AIP-158: 0 means the default, negative is an error, large values are capped.
fn page_size(v: &mut Violations, raw: i32) -> i64 {
    match raw {
        0 => DEFAULT_PAGE_SIZE,
        n if n < 0 => {
            v.add("page_size", "must not be negative");
            DEFAULT_PAGE_SIZE
        }
        n => i64::from(n).min(MAX_PAGE_SIZE),
    }
}

pub struct TicketListing {
    pub filter: TicketFilter,
    pub page_size: i64,
}

pub fn list_tickets(request: &pb::ListTicketsRequest) -> Result<TicketListing> {
    let mut v = Violations::default();
    let page_size = page_size(&mut v, request.page_size);
    let account_id = if request.account.is_empty() {
        None
    } else {
        Some(account_from_name(&mut v, "account", &request.account))
    };
    let filter = TicketFilter {
        account_id,
        channel: v.filter_enum("channel", request.channel, channel_from_proto),
        priority: v.filter_enum("priority", request.priority, priority_from_proto),
        status: v.filter_enum("status", request.status, status_from_proto),
    };
    v.into_result()?;
    Ok(TicketListing { filter, page_size })
}

pub fn list_accounts_page_size(raw: i32) -> Result<i64> {
    let mut v = Violations::default();
    let size = page_size(&mut v, raw);
    v.into_result().map(|()| size)
}

pub struct ChannelQuestion {
    pub subject: PlanOrAccount,
    pub channel: crate::domain::Channel,
}

pub enum PlanOrAccount {
    Plan(crate::domain::Plan),
    Account(String),
}

pub fn check_channel(request: pb::CheckChannelRequest) -> Result<ChannelQuestion> {
    let mut v = Violations::default();
    let channel = v.required_enum("channel", request.channel, channel_from_proto);
    let subject = match (request.account.is_empty(), request.plan) {
        (true, 0) => {
            v.add("account", "set exactly one of account or plan");
            None
        }
        (false, 0) => Some(PlanOrAccount::Account(account_from_name(
            &mut v,
            "account",
            &request.account,
        ))),
        (true, raw) => v
            .required_enum("plan", raw, plan_from_proto)
            .map(PlanOrAccount::Plan),
        (false, _) => {
            v.add("plan", "set exactly one of account or plan");
            None
        }
    };
    v.into_result()?;
    match (subject, channel) {
        (Some(subject), Some(channel)) => Ok(ChannelQuestion { subject, channel }),
        _ => Err(Error::Internal(
            "validation let an incomplete question through".into(),
        )),
    }
}

pub struct DeadlineQuestion {
    pub plan: crate::domain::Plan,
    pub priority: crate::domain::Priority,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

pub fn compute_deadline(
    request: pb::ComputeDeadlineRequest,
    policy: &Policy,
) -> Result<DeadlineQuestion> {
    let mut v = Violations::default();
    let plan = v.required_enum("plan", request.plan, plan_from_proto);
    let priority = v.required_enum("priority", request.priority, priority_from_proto);
    let received_at = timestamp_field(&mut v, "received_at", request.received_at);
    if let (Some(plan), Some(priority), Some(at)) = (plan, priority, received_at)
        && policy.response_due_at(plan, priority, at).timestamp() > MAX_TIMESTAMP_SECONDS
    {
        v.add(
            "received_at",
            "is so late that the deadline would fall after 9999-12-31",
        );
    }
    v.into_result()?;
    match (plan, priority, received_at) {
        (Some(plan), Some(priority), Some(received_at)) => Ok(DeadlineQuestion {
            plan,
            priority,
            received_at,
        }),
        _ => Err(Error::Internal(
            "validation let an incomplete question through".into(),
        )),
    }
}

#[cfg(test)]
mod fuzz_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_follow_the_documented_shape() {
        for good in ["abc", "acme-corp", "a1b2", &"a".repeat(63)] {
            assert!(is_account_id(good), "{good}");
        }
        for bad in ["ab", "1abc", "Acme", "acme-", "ac_me", "", &"a".repeat(64)] {
            assert!(!is_account_id(bad), "{bad}");
        }
    }

    #[test]
    fn e164_numbers_need_a_plus_and_8_to_15_digits() {
        for good in ["+14155550123", "+442038905445", "+611800768027"] {
            assert!(is_e164(good), "{good}");
        }
        for bad in [
            "14155550123",
            "+0123456789",
            "+1415",
            "+1 415 555 0123",
            "+1234567890123456",
        ] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn emails_need_one_at_and_a_dotted_domain() {
        assert!(is_email("ana@example.com"));
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn text_of_only_invisible_characters_is_blank() {
        for blank in [
            "",
            " \t\n",
            "\u{200B}\u{200B}",
            "\u{FEFF}",
            " \u{2060}\u{200D} ",
            "\u{202E}",
        ] {
            assert!(is_blank(blank), "{blank:?}");
        }
        for seen in ["a", "\u{200B}a", "שלום\u{200F}", "مرحبا"] {
            assert!(!is_blank(seen), "{seen:?}");
        }
    }

    #[test]
    fn bidirectional_overrides_are_refused_and_marks_are_not() {
        let mut v = Violations::default();
        v.check_length("subject", "invoice \u{202E}fdp.exe", 100);
        v.check_length("description", "\u{2067}isolated\u{2069}", 100);
        v.check_length("note", "שלום\u{200F} ok", 100);
        let fields: Vec<_> = v.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["subject", "description"]);
    }

    #[test]
    fn ticket_names_accept_a_uuid_or_a_number() {
        let id = Uuid::new_v4();
        assert_eq!(
            ticket_name(&format!("tickets/{id}")).unwrap(),
            TicketKey::Id(id)
        );
        assert_eq!(ticket_name("tickets/42").unwrap(), TicketKey::Number(42));
        for bad in [
            "",
            "tickets/",
            "42",
            "tickets/-1",
            "tickets/abc",
            "tickets/99999999999999999999",
            "tickets/042",
            "tickets/00",
            "tickets/+42",
        ] {
            assert!(ticket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn control_characters_are_refused_but_line_breaks_are_not() {
        let mut v = Violations::default();
        v.required("subject", "a\0b".into(), 100);
        v.optional("description", "bell\u{7}".into(), 100);
        v.required("first_message", "line one\nline two\ttab".into(), 100);
        let fields: Vec<&str> = v.0.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, ["subject", "description"]);
    }

    #[test]
    fn each_field_is_reported_once_and_a_refusal_lists_a_bounded_number() {
        let mut v = Violations::default();
        v.required("subject", format!("{}\0", "x".repeat(300)), 200);
        assert_eq!(v.0.len(), 1, "{:?}", v.0);
        assert!(v.0[0].description.contains("at most 200"), "{:?}", v.0);
        for i in 0..100 {
            v.add(&format!("plans[{i}]"), "is not a known value");
        }
        assert_eq!(v.0.len(), MAX_VIOLATIONS);
    }

    #[test]
    fn quoted_values_are_escaped_and_cut() {
        assert_eq!(quoted("acme"), r#""acme""#);
        assert_eq!(quoted("a\0b"), r#""a\0b""#);
        let long = quoted(&"x".repeat(1_000));
        assert!(
            long.starts_with(&format!("\"{}\"...", "x".repeat(64))),
            "{long}"
        );
        assert!(long.ends_with("(1000 characters)"), "{long}");
        let escaped = quoted(&"\u{1}".repeat(1_000));
        assert!(escaped.len() < MAX_ECHO_BYTES + 40, "{escaped}");
    }

    #[test]
    fn page_size_follows_aip_158() {
        let mut v = Violations::default();
        assert_eq!(page_size(&mut v, 0), DEFAULT_PAGE_SIZE);
        assert_eq!(page_size(&mut v, 7), 7);
        assert_eq!(page_size(&mut v, 10_000), MAX_PAGE_SIZE);
        assert!(v.0.is_empty());
        page_size(&mut v, -1);
        assert_eq!(v.0[0].field, "page_size");
    }

    #[test]
    fn every_missing_field_of_an_empty_ticket_is_reported_at_once() {
        let err =
            create_ticket(pb::CreateTicketRequest::default(), &Policy::standard()).unwrap_err();
        let Error::InvalidArgument(violations) = err else {
            panic!("expected InvalidArgument");
        };
        let fields: Vec<&str> = violations.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(fields, vec!["account", "subject", "origin", "impact"]);
    }
}
