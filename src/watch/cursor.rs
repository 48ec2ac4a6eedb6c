//! The cursor a watcher resumes from: an event log position as text. Opaque
//! to clients; versioned so its shape can change without misreading old ones.

use crate::store::LogPosition;

const PREFIX: &str = "v1.";

pub fn encode(position: LogPosition) -> String {
    format!("{PREFIX}{}.{}", position.txid, position.id)
}

/// `None` for anything [`encode`] cannot have produced.
pub fn decode(cursor: &str) -> Option<LogPosition> {
    let (txid, id) = cursor.strip_prefix(PREFIX)?.split_once('.')?;
    Some(LogPosition {
        txid: number(txid)?,
        id: number(id)?,
    })
}

/// Plain decimal digits only: `parse` would also take a sign.
fn number(text: &str) -> Option<i64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_decodes_to_the_position_it_encodes() {
        for position in [
            LogPosition { txid: 0, id: 0 },
            LogPosition { txid: 0, id: 42 },
            LogPosition {
                txid: 7_000_123,
                id: 9,
            },
            LogPosition {
                txid: i64::MAX,
                id: i64::MAX,
            },
        ] {
            assert_eq!(decode(&encode(position)), Some(position));
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for cursor in [
            "",
            "v1.",
            "v1.1",
            "v1.1.",
            "v1..1",
            "v2.1.1",
            "1.1",
            "v1.-1.3",
            "v1.+1.3",
            "v1.1.2.3",
            "v1.1.x",
            "v1.99999999999999999999.1",
        ] {
            assert_eq!(decode(cursor), None, "{cursor:?}");
        }
    }
}
