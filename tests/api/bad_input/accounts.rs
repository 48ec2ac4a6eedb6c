//! Bad input to CreateAccount, GetAccount, UpdateAccount and ListAccounts.

use ticketd::api::page_token;
use ticketd::proto::pb;

use super::{Call, Case, long, with};
use crate::helpers::*;

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "an account without an id",
            call: Call::CreateAccount(new_account("")),
            fields: &["account_id"],
        },
        Case {
            what: "an account id with capitals and an underscore",
            call: Call::CreateAccount(new_account("New_Co")),
            fields: &["account_id"],
        },
        Case {
            what: "an account whose display name is 201 characters",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().display_name = "é".repeat(201)
            })),
            fields: &["account.display_name"],
        },
        Case {
            what: "an account whose display name holds a NUL",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().display_name = "New\0Co".into()
            })),
            fields: &["account.display_name"],
        },
        Case {
            what: "an account with PLAN_UNSPECIFIED",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().plan = 0
            })),
            fields: &["account.plan"],
        },
        Case {
            what: "an account with an unknown plan number",
            call: Call::CreateAccount(with(new_account("newco"), |r| {
                r.account.as_mut().unwrap().plan = 99
            })),
            fields: &["account.plan"],
        },
        Case {
            what: "an account update with an unknown mask path",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account("acme"),
                    plan: pb::Plan::Free.into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["plan".into(), "create_time".into()],
                }),
            }),
            fields: &["update_mask"],
        },
        Case {
            what: "an account update whose mask lists 5,000 paths",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account("acme"),
                    plan: pb::Plan::Free.into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["plan".into(); 5_000],
                }),
            }),
            fields: &["update_mask"],
        },
        Case {
            what: "an account update to an unknown plan number",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: account("acme"),
                    plan: 42,
                    ..Default::default()
                }),
                update_mask: None,
            }),
            fields: &["account.plan"],
        },
        Case {
            what: "an account update naming the account without its prefix",
            call: Call::UpdateAccount(pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    name: "acme".into(),
                    display_name: "Acme".into(),
                    ..Default::default()
                }),
                update_mask: None,
            }),
            fields: &["account.name"],
        },
        Case {
            what: "an account name of 60,000 characters",
            call: Call::GetAccount(pb::GetAccountRequest {
                name: format!("accounts/{}", long(60_000)),
            }),
            fields: &["name"],
        },
        Case {
            what: "a negative account page size",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: -1,
                page_token: String::new(),
            }),
            fields: &["page_size"],
        },
        Case {
            what: "an account page token that is not hex",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: 10,
                page_token: "zz".into(),
            }),
            fields: &["page_token"],
        },
        Case {
            what: "a forged account page token whose key is a NUL",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: 10,
                page_token: page_token::encode("\0", page_token::fingerprint("accounts")),
            }),
            fields: &["page_token"],
        },
    ]
}

fn new_account(id: &str) -> pb::CreateAccountRequest {
    pb::CreateAccountRequest {
        account_id: id.into(),
        account: Some(pb::Account {
            display_name: "New Co".into(),
            plan: pb::Plan::Pro.into(),
            ..Default::default()
        }),
    }
}
