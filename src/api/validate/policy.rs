//! PolicyService's questions: ClassifyPriority, CheckChannel and
//! ComputeDeadline.

use super::Violations;
use super::limits::MAX_TIMESTAMP_SECONDS;
use super::names::account_from_name;
use super::tickets::impact;
use super::timestamps::timestamp_field;
use crate::api::convert::{channel_from_proto, plan_from_proto, priority_from_proto};
use crate::domain::policy::Policy;
use crate::domain::priority::Impact;
use crate::error::{Error, Result};
use crate::proto::pb;

pub fn classify_priority(request: pb::ClassifyPriorityRequest) -> Result<Impact> {
    let mut v = Violations::default();
    let impact = impact(&mut v, "impact.", request.impact);
    v.into_result()?;
    impact.ok_or_else(|| Error::invalid("impact", "is required"))
}

pub struct ChannelQuestion {
    pub subject: PlanOrAccount,
    pub channel: crate::domain::Channel,
}

pub enum PlanOrAccount {
    Plan(crate::domain::Plan),
    Account(String),
}

pub fn check_channel(request: pb::CheckChannelRequest) -> Result<ChannelQuestion> {
    let mut v = Violations::default();
    let channel = v.required_enum("channel", request.channel, channel_from_proto);
    let subject = match (request.account.is_empty(), request.plan) {
        (true, 0) => {
            v.add("account", "set exactly one of account or plan");
            None
        }
        (false, 0) => Some(PlanOrAccount::Account(account_from_name(
            &mut v,
            "account",
            &request.account,
        ))),
        (true, raw) => v
            .required_enum("plan", raw, plan_from_proto)
            .map(PlanOrAccount::Plan),
        (false, _) => {
            v.add("plan", "set exactly one of account or plan");
            None
        }
    };
    v.into_result()?;
    match (subject, channel) {
        (Some(subject), Some(channel)) => Ok(ChannelQuestion { subject, channel }),
        _ => Err(Error::Internal(
            "validation let an incomplete question through".into(),
        )),
    }
}

pub struct DeadlineQuestion {
    pub plan: crate::domain::Plan,
    pub priority: crate::domain::Priority,
    pub received_at: chrono::DateTime<chrono::Utc>,
}

pub fn compute_deadline(
    request: pb::ComputeDeadlineRequest,
    policy: &Policy,
) -> Result<DeadlineQuestion> {
    let mut v = Violations::default();
    let plan = v.required_enum("plan", request.plan, plan_from_proto);
    let priority = v.required_enum("priority", request.priority, priority_from_proto);
    let received_at = timestamp_field(&mut v, "received_at", request.received_at);
    if let (Some(plan), Some(priority), Some(at)) = (plan, priority, received_at)
        && policy.response_due_at(plan, priority, at).timestamp() > MAX_TIMESTAMP_SECONDS
    {
        v.add(
            "received_at",
            "is so late that the deadline would fall after 9999-12-31",
        );
    }
    v.into_result()?;
    match (plan, priority, received_at) {
        (Some(plan), Some(priority), Some(received_at)) => Ok(DeadlineQuestion {
            plan,
            priority,
            received_at,
        }),
        _ => Err(Error::Internal(
            "validation let an incomplete question through".into(),
        )),
    }
}
