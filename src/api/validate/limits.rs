//! Every size limit validation enforces, so the numbers a client can run
//! into are read in one place.

pub const MAX_SUBJECT_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 20_000;
pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_ID_CHARS: usize = 128;
pub const MAX_URI_CHARS: usize = 2_048;
pub const MAX_REQUEST_ID_CHARS: usize = 64;
pub const DEFAULT_PAGE_SIZE: i64 = 50;
/// google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
pub(super) const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
pub(super) const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
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
pub(super) const MAX_ECHO_CHARS: usize = 64;
pub(super) const MAX_ECHO_BYTES: usize = 128;

/// An agent's note or reason, or a customer's survey comment.
pub(super) const MAX_NOTE_CHARS: usize = 2_000;
/// The longest address SMTP can carry (RFC 5321's path limit).
pub(super) const MAX_EMAIL_CHARS: usize = 254;
/// `+` and E.164's 15 digits.
pub(super) const MAX_PHONE_NUMBER_CHARS: usize = 16;
/// Survey tokens the server issues are shorter; anything longer is not one.
pub(super) const MAX_SURVEY_TOKEN_CHARS: usize = 64;
/// Every number of this many digits fits an i64, so parsing cannot overflow.
pub(super) const MAX_NUMBER_DIGITS: usize = 18;
/// The longest span a request may ask about: a year, leap years included.
pub(super) const MAX_PERIOD_DAYS: i64 = 366;
/// The longest policy document ValidatePolicyDocument reads: 128 KiB, about
/// eighteen times the published one, and half the default message limit
/// (`config::DEFAULT_MAX_MESSAGE_BYTES`), so a document just over it still
/// arrives and is refused by name.
pub const MAX_POLICY_DOCUMENT_BYTES: usize = 128 * 1024;
/// Most bytes of a document problem's path, and of its message, quoted in a
/// refusal (both can quote the document's own text).
pub(super) const MAX_PROBLEM_PATH_BYTES: usize = 96;
pub(super) const MAX_PROBLEM_MESSAGE_BYTES: usize = 240;
/// Most bytes of problems (fields and descriptions) one refusal lists, so the
/// message it makes stays within what trailers carry; problems past it are
/// counted, not listed.
pub(super) const MAX_PROBLEM_BYTES: usize = 1_600;

const _: () = assert!(
    MAX_POLICY_DOCUMENT_BYTES + 1_024 < crate::config::DEFAULT_MAX_MESSAGE_BYTES,
    "a document just over its limit must still fit in a message"
);
