//! Resource names (`accounts/{id}`, `tickets/{uuid|number}`) to the keys
//! the service looks records up by.

use uuid::Uuid;

use super::limits::MAX_NUMBER_DIGITS;
use super::{Violations, quoted};
use crate::domain::ticket::TicketKey;
use crate::error::{Error, Result};

/// `accounts/{id}` → `id`.
pub(super) fn account_from_name(v: &mut Violations, field: &str, name: &str) -> String {
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

/// An account filter: empty means every account.
pub(super) fn optional_account(v: &mut Violations, field: &str, name: &str) -> Option<String> {
    (!name.is_empty()).then(|| account_from_name(v, field, name))
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

pub fn ticket_name(name: &str) -> Result<TicketKey> {
    let key = name.strip_prefix("tickets/").and_then(|id| {
        if let Ok(uuid) = Uuid::parse_str(id) {
            Some(TicketKey::Id(uuid))
        } else if !id.is_empty()
            && id.len() <= MAX_NUMBER_DIGITS
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

pub(super) fn ticket_key(v: &mut Violations, name: &str) -> Option<TicketKey> {
    match ticket_name(name) {
        Ok(key) => Some(key),
        Err(Error::InvalidArgument(violations)) => {
            v.append(violations);
            None
        }
        Err(_) => None,
    }
}

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
}
