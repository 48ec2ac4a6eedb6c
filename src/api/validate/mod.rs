//! Request validation: protobuf requests become domain values, or an
//! INVALID_ARGUMENT listing every bad field by its path in the request.
//! Nothing reaches the store until a request has passed here. This file
//! holds what every request shares; each area's requests have a file.

mod accounts;
mod actions;
mod compliance;
mod limits;
mod listing;
mod names;
mod policy;
mod service_requests;
mod surveys;
mod tickets;
mod timestamps;
mod watch;

pub use accounts::{account_name, create_account, list_accounts_page_size, update_account};
pub use actions::{acknowledge, close, reopen, reprioritize, resolve, update_status};
pub use compliance::compliance_period;
pub use limits::{
    DEFAULT_PAGE_SIZE, MAX_DESCRIPTION_CHARS, MAX_ID_CHARS, MAX_LIST_VALUES, MAX_NAME_CHARS,
    MAX_PAGE_SIZE, MAX_POLICY_DOCUMENT_BYTES, MAX_REQUEST_ID_CHARS, MAX_SUBJECT_CHARS,
    MAX_URI_CHARS, MAX_VIOLATIONS,
};
pub use listing::{
    DeadlineListing, EventListing, TicketListing, list_ticket_events, list_tickets,
    list_tickets_by_deadline,
};
pub use names::{is_account_id, ticket_name};
pub use policy::{
    ChannelQuestion, DeadlineQuestion, PlanOrAccount, check_channel, classify_priority,
    compute_deadline, policy_document,
};
pub use service_requests::{
    ServiceRequestListing, create_service_request, list_service_requests, service_request_name,
    update_service_request_status,
};
pub use surveys::{SurveyAnswerRequest, SurveyListing, answer_survey, list_surveys};
pub use tickets::create_ticket;
pub use timestamps::is_timestamp_in_range;
pub use watch::watch_sla_status;

use crate::error::{Error, FieldViolation, Result};
use limits::{MAX_ECHO_BYTES, MAX_ECHO_CHARS, MAX_EMAIL_CHARS};

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

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    value.len() <= MAX_EMAIL_CHARS
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn is_request_id(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
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

#[cfg(test)]
mod fuzz_tests;

#[cfg(test)]
mod tests {
    use super::*;

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
}
