//! Reading stored enumerations back into the domain's types.

use crate::error::{Error, Result};

/// Reads a stored enumeration; a value the domain does not know means the
/// database was written by something else, which is an internal error.
pub fn parse<T>(column: &str, text: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    parse(text).ok_or_else(|| Error::Internal(format!("unexpected {column} value {text:?}")))
}

pub fn parse_optional<T>(
    column: &str,
    text: Option<&str>,
    from: fn(&str) -> Option<T>,
) -> Result<Option<T>> {
    text.map(|text| parse(column, text, from)).transpose()
}
