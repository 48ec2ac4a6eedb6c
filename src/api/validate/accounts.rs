//! CreateAccount, GetAccount, UpdateAccount and ListAccounts.

use super::limits::{MAX_LIST_VALUES, MAX_NAME_CHARS};
use super::names::{account_from_name, is_account_id};
use super::{Violations, page_size, quoted};
use crate::api::convert::plan_from_proto;
use crate::domain::ticket::{AccountUpdate, NewAccount};
use crate::error::{Error, Result};
use crate::proto::pb;

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

pub fn list_accounts_page_size(raw: i32) -> Result<i64> {
    let mut v = Violations::default();
    let size = page_size(&mut v, raw);
    v.into_result().map(|()| size)
}
