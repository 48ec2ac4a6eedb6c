//! Accounts CreateTicket has recently read, so that a ticket usually costs
//! one statement (the insert) instead of two (read the plan, then insert).
//!
//! A cached account may be stale: another replica, or an operator at the
//! database, may have changed its plan. That never yields a wrong deadline,
//! because the store writes a ticket only while the account is still on the
//! plan the ticket was decided under, and answers [`Error::Conflict`]
//! otherwise; the service then forgets the entry and decides again from a
//! fresh read. So the cache needs no expiry, only a bound on its size.
//!
//! [`Error::Conflict`]: crate::error::Error::Conflict

use std::collections::HashMap;
use std::sync::Mutex;

use crate::domain::ticket::Account;

/// Accounts by id, at most `capacity` of them. Only `id` and `plan` are
/// relied on; the rest is as it was when read.
#[derive(Debug)]
pub struct AccountCache {
    capacity: usize,
    accounts: Mutex<HashMap<String, Account>>,
}

impl AccountCache {
    /// A cache of at most `capacity` accounts; 0 turns it off, so every
    /// CreateTicket reads its account.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            accounts: Mutex::new(HashMap::new()),
        }
    }

    pub fn get(&self, id: &str) -> Option<Account> {
        self.lock().get(id).cloned()
    }

    /// Keeps `account`. A full cache is emptied first: with more active
    /// accounts than it holds, which entries survive matters less than
    /// keeping the bound, and each miss costs one read.
    pub fn remember(&self, account: &Account) {
        if self.capacity == 0 {
            return;
        }
        let mut accounts = self.lock();
        if accounts.len() >= self.capacity && !accounts.contains_key(&account.id) {
            accounts.clear();
        }
        accounts.insert(account.id.clone(), account.clone());
    }

    pub fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Account>> {
        // Every critical section leaves the map whole, so a panic elsewhere
        // while it was held cannot have left it half-updated.
        self.accounts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::policy::Plan;

    fn account(id: &str, plan: Plan) -> Account {
        let at = Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap();
        Account {
            id: id.into(),
            display_name: id.into(),
            plan,
            create_time: at,
            update_time: at,
        }
    }

    #[test]
    fn remembers_replaces_and_forgets() {
        let cache = AccountCache::new(4);
        assert_eq!(cache.get("acme"), None);
        cache.remember(&account("acme", Plan::Pro));
        assert_eq!(cache.get("acme").unwrap().plan, Plan::Pro);
        cache.remember(&account("acme", Plan::Business));
        assert_eq!(cache.get("acme").unwrap().plan, Plan::Business);
        assert_eq!(cache.len(), 1);
        cache.forget("acme");
        assert_eq!(cache.get("acme"), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = AccountCache::new(3);
        for n in 0..10 {
            cache.remember(&account(&format!("a{n}"), Plan::Free));
            assert!(cache.len() <= 3, "{} entries after {n}", cache.len());
            assert!(cache.get(&format!("a{n}")).is_some(), "the newest is kept");
        }
        // a9 started a new round; fill it, then replace an entry of the
        // full cache: the others stay.
        cache.remember(&account("b1", Plan::Free));
        cache.remember(&account("b2", Plan::Free));
        assert_eq!(cache.len(), 3);
        cache.remember(&account("a9", Plan::Pro));
        assert_eq!(cache.len(), 3);
        assert!(cache.get("b1").is_some() && cache.get("b2").is_some());
        assert_eq!(cache.get("a9").unwrap().plan, Plan::Pro);
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let cache = AccountCache::new(0);
        cache.remember(&account("acme", Plan::Pro));
        assert_eq!(cache.get("acme"), None);
    }
}
