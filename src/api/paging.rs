//! The page flow every List handler shares (AIP-158): read where the last
//! page ended from its token, fetch one row more than the page, and issue the
//! token for the next page from the last row kept.

use super::page_token;
use crate::error::Result;

/// A page being read: where the previous one ended, and how many rows it holds.
pub struct Page<K> {
    /// The previous page's last key; `None` on the first page.
    pub after: Option<K>,
    size: i64,
    filters: u64,
}

impl<K> Page<K> {
    /// `filters` describes the query so a token cannot be replayed against
    /// another; `key` reads the key a token carries, and `None` from it means
    /// the token is forged, since the key goes on to the database.
    pub fn open(
        token: &str,
        filters: &str,
        size: i64,
        key: impl FnOnce(&str) -> Option<K>,
    ) -> Result<Self> {
        let filters = page_token::fingerprint(filters);
        let after = page_token::decode(token, filters)?
            .map(|last| key(&last).ok_or_else(page_token::not_issued))
            .transpose()?;
        Ok(Self {
            after,
            size,
            filters,
        })
    }

    /// One row more than the page, so the look-ahead row tells whether
    /// another page exists without a count query.
    pub fn limit(&self) -> i64 {
        self.size + 1
    }

    /// Trims the look-ahead row and returns the token for the next page, or an
    /// empty string on the last page.
    pub fn next_token<T>(&self, rows: &mut Vec<T>, key: impl Fn(&T) -> String) -> String {
        let size = usize::try_from(self.size).unwrap_or(usize::MAX);
        if rows.len() <= size {
            return String::new();
        }
        rows.truncate(size);
        rows.last()
            .map(|last| page_token::encode(&key(last), self.filters))
            .unwrap_or_default()
    }
}
