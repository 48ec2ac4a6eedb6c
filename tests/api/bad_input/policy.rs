//! Bad input to PolicyService.

use ticketd::proto::pb;

use super::{Call, Case, Input, delimited, encoded_with, with};
use crate::helpers::*;

pub(super) fn cases() -> Vec<Case> {
    use pb::{ImpactScope as S, RequestKind as K, Workaround as W};
    vec![
        Case {
            what: "a channel check with neither account nor plan",
            call: Call::CheckChannel(pb::CheckChannelRequest {
                account: String::new(),
                plan: 0,
                channel: pb::Channel::Phone.into(),
            })
            .into(),
            fields: &["account"],
        },
        Case {
            what: "a channel check with both account and plan",
            call: Call::CheckChannel(pb::CheckChannelRequest {
                account: account("acme"),
                plan: pb::Plan::Free.into(),
                channel: pb::Channel::Phone.into(),
            })
            .into(),
            fields: &["plan"],
        },
        Case {
            what: "a channel check of CHANNEL_UNSPECIFIED",
            call: Call::CheckChannel(pb::CheckChannelRequest {
                account: String::new(),
                plan: pb::Plan::Free.into(),
                channel: 0,
            })
            .into(),
            fields: &["channel"],
        },
        Case {
            what: "a channel check whose account is not UTF-8",
            call: Input::Raw(
                "/support.v1.PolicyService/CheckChannel",
                encoded_with(
                    &pb::CheckChannelRequest {
                        account: account("acme"),
                        plan: 0,
                        channel: pb::Channel::Phone.into(),
                    },
                    delimited(1, b"accounts/acme\xc0"),
                ),
            ),
            fields: &["account"],
        },
        Case {
            what: "a classification of a problem without a scope",
            call: Call::ClassifyPriority(pb::ClassifyPriorityRequest {
                impact: impact(K::Problem, S::Unspecified, W::None),
            })
            .into(),
            fields: &["impact.scope"],
        },
        Case {
            what: "a classification without an impact",
            call: Call::ClassifyPriority(pb::ClassifyPriorityRequest { impact: None }).into(),
            fields: &["impact"],
        },
        Case {
            what: "a deadline question whose deadline falls after 9999",
            call: Call::ComputeDeadline(with(deadline_question(), |r| {
                r.received_at = Some(prost_types::Timestamp {
                    seconds: 253_402_300_000,
                    nanos: 0,
                })
            }))
            .into(),
            fields: &["received_at"],
        },
        Case {
            what: "a deadline question with PLAN_UNSPECIFIED",
            call: Call::ComputeDeadline(with(deadline_question(), |r| r.plan = 0)).into(),
            fields: &["plan"],
        },
        Case {
            what: "an empty policy document",
            call: document(String::new()),
            fields: &["document"],
        },
        Case {
            what: "a policy document over its size limit",
            call: document(format!(
                "{PUBLISHED_POLICY}\n# {}\n",
                "x".repeat(ticketd::api::validate::MAX_POLICY_DOCUMENT_BYTES)
            )),
            fields: &["document"],
        },
        Case {
            what: "a policy document that is not TOML",
            call: document(PUBLISHED_POLICY.replacen(
                "at_risk_percent = 75",
                "at_risk_percent = = 75",
                1,
            )),
            fields: &["document.at_risk_percent"],
        },
        Case {
            what: "a policy document with several problems",
            call: document(policy_with_problems()),
            fields: &[
                "document.at_risk_percent",
                "document.plans[3].channels",
                "document.targets.first_response.pro.p1",
            ],
        },
    ]
}

fn document(document: String) -> Input {
    Call::ValidatePolicyDocument(pb::ValidatePolicyDocumentRequest { document }).into()
}

fn deadline_question() -> pb::ComputeDeadlineRequest {
    pb::ComputeDeadlineRequest {
        plan: pb::Plan::Pro.into(),
        priority: pb::Priority::P1Urgent.into(),
        received_at: Some(ts(start_time())),
    }
}
