//! WatchSlaStatus: the filter and where to resume.

use super::Violations;
use super::limits::MAX_LIST_VALUES;
use super::names::optional_account;
use crate::api::convert::{
    channel_from_proto, plan_from_proto, priority_from_proto, sla_state_from_proto,
};
use crate::domain::watch::{LogPosition, WatchFilter};
use crate::error::Result;
use crate::proto::pb;

/// A watch's filter, and the position to resume after when a cursor is given.
pub fn watch_sla_status(
    request: &pb::WatchSlaStatusRequest,
) -> Result<(WatchFilter, Option<LogPosition>)> {
    fn each<T: PartialEq>(
        v: &mut Violations,
        field: &str,
        raw: &[i32],
        from: fn(i32) -> Option<T>,
    ) -> Vec<T> {
        if raw.len() > MAX_LIST_VALUES {
            v.add(field, format!("lists at most {MAX_LIST_VALUES} values"));
            return Vec::new();
        }
        let mut values = Vec::new();
        for (i, value) in raw.iter().enumerate() {
            match from(*value) {
                Some(value) if !values.contains(&value) => values.push(value),
                Some(_) => v.add(&format!("{field}[{i}]"), "is listed twice"),
                None => v.add(
                    &format!("{field}[{i}]"),
                    format!("{value} is not a known value (UNSPECIFIED is not a filter)"),
                ),
            }
        }
        values
    }
    let mut v = Violations::default();
    let filter = WatchFilter {
        plans: each(&mut v, "plans", &request.plans, plan_from_proto),
        channels: each(&mut v, "channels", &request.channels, channel_from_proto),
        priorities: each(
            &mut v,
            "priorities",
            &request.priorities,
            priority_from_proto,
        ),
        account_id: optional_account(&mut v, "account", &request.account),
        states: each(
            &mut v,
            "sla_states",
            &request.sla_states,
            sla_state_from_proto,
        ),
    };
    let resume = if request.resume_cursor.is_empty() {
        None
    } else {
        let position = crate::watch::cursor::decode(&request.resume_cursor);
        if position.is_none() {
            v.add(
                "resume_cursor",
                "is not a cursor this server sent; leave it empty to start with a snapshot",
            );
        }
        position
    };
    v.into_result()?;
    Ok((filter, resume))
}
