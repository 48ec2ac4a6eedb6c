//! Bad input to CreateAccount, GetAccount, UpdateAccount and ListAccounts.

use ticketd::api::page_token;
use ticketd::proto::pb;

use super::{Call, Case, long, with};
use crate::helpers::*;

pub(super) fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "an account without an id",
            call: Call::CreateAccount(new_account("")).into(),
            fields: &["account_id"],
        },
        Case {
            what: "an account id with capitals and an underscore",
            call: Call::CreateAccount(new_account("New_Co")).into(),
            fields: &["account_id"],
        },
        Case {
            what: "an account whose display name is 201 characters",
            call: new_account_where(|a| a.display_name = "é".repeat(201)).into(),
            fields: &["account.display_name"],
        },
        Case {
            what: "an account whose display name holds a NUL",
            call: new_account_where(|a| a.display_name = "New\0Co".into()).into(),
            fields: &["account.display_name"],
        },
        Case {
            what: "an account with PLAN_UNSPECIFIED",
            call: new_account_where(|a| a.plan = 0).into(),
            fields: &["account.plan"],
        },
        Case {
            what: "an account with an unknown plan number",
            call: new_account_where(|a| a.plan = 99).into(),
            fields: &["account.plan"],
        },
        Case {
            what: "an account update with an unknown mask path",
            call: update_acme(
                pb::Plan::Free as i32,
                Some(vec!["plan".into(), "create_time".into()]),
            )
            .into(),
            fields: &["update_mask"],
        },
        Case {
            what: "an account update whose mask lists 5,000 paths",
            call: update_acme(pb::Plan::Free as i32, Some(vec!["plan".into(); 5_000])).into(),
            fields: &["update_mask"],
        },
        Case {
            what: "an account update to an unknown plan number",
            call: update_acme(42, None).into(),
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
            })
            .into(),
            fields: &["account.name"],
        },
        Case {
            what: "an account name of 60,000 characters",
            call: Call::GetAccount(pb::GetAccountRequest {
                name: format!("accounts/{}", long(60_000)),
            })
            .into(),
            fields: &["name"],
        },
        Case {
            what: "a negative account page size",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: -1,
                page_token: String::new(),
            })
            .into(),
            fields: &["page_size"],
        },
        Case {
            what: "an account page token that is not hex",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: 10,
                page_token: "zz".into(),
            })
            .into(),
            fields: &["page_token"],
        },
        Case {
            what: "a forged account page token whose key is a NUL",
            call: Call::ListAccounts(pb::ListAccountsRequest {
                page_size: 10,
                page_token: page_token::encode("\0", page_token::fingerprint("accounts")),
            })
            .into(),
            fields: &["page_token"],
        },
    ]
}

fn new_account_where(adjust: impl FnOnce(&mut pb::Account)) -> Call {
    Call::CreateAccount(with(new_account("newco"), |r| {
        adjust(r.account.as_mut().unwrap())
    }))
}

/// UpdateAccount of accounts/acme to plan number `plan`, with a mask of
/// `paths` if any.
fn update_acme(plan: i32, paths: Option<Vec<String>>) -> Call {
    Call::UpdateAccount(pb::UpdateAccountRequest {
        account: Some(pb::Account {
            name: account("acme"),
            plan,
            ..Default::default()
        }),
        update_mask: paths.map(|paths| prost_types::FieldMask { paths }),
    })
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
