//! The differences between two policies, table by table and cell by cell:
//! what `ticketctl policy diff` prints. Pure: it compares two `Policy`
//! messages, however they were obtained.

use std::collections::BTreeMap;

use ticketd_client::proto::pb;

use crate::output::{channel_name, plan_name, priority_name, span};
use crate::values::{ProtoEnum, short_name};

/// One table of the policy and what changed in it, a line per change.
#[derive(Debug, PartialEq, Eq)]
pub struct TableDiff {
    pub table: &'static str,
    pub changes: Vec<String>,
}

/// Every table in which `from` and `to` differ, in the order `policy show`
/// prints them; empty when the two are the same policy.
pub fn diff(from: &pb::Policy, to: &pb::Policy) -> Vec<TableDiff> {
    let tables = [
        ("version", version(from, to)),
        ("plans and channels", plans(from, to)),
        ("response targets", targets(from, to)),
        ("phone lines", phone_lines(from, to)),
        ("priority definitions", priorities(from, to)),
        ("priority rules", rules(from, to)),
        ("at-risk threshold", at_risk(from, to)),
        ("support hours", support_hours(from, to)),
        ("professional services", services(from, to)),
    ];
    tables
        .into_iter()
        .filter(|(_, changes)| !changes.is_empty())
        .map(|(table, changes)| TableDiff { table, changes })
        .collect()
}

/// `label: old → new` when the two differ.
fn changed(label: &str, old: &str, new: &str) -> Option<String> {
    (old != new).then(|| format!("{label}: {old} → {new}"))
}

fn version(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    changed("label", &quote(&from.version), &quote(&to.version))
        .into_iter()
        .collect()
}

fn quote(text: &str) -> String {
    format!("{text:?}")
}

fn names(values: &[i32], name: fn(i32) -> &'static str) -> String {
    if values.is_empty() {
        return "(any)".to_owned();
    }
    values
        .iter()
        .map(|v| name(*v))
        .collect::<Vec<_>>()
        .join(", ")
}

fn plans(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    let channels = |policy: &pb::Policy| -> BTreeMap<i32, Vec<i32>> {
        policy
            .plan_channels
            .iter()
            .map(|row| (row.plan, row.channels.clone()))
            .collect()
    };
    let (old, new) = (channels(from), channels(to));
    let mut out = Vec::new();
    for (plan, was) in &old {
        match new.get(plan) {
            None => out.push(format!(
                "- {} (had {})",
                plan_name(*plan),
                names(was, channel_name)
            )),
            Some(now) => {
                for channel in was.iter().filter(|c| !now.contains(c)) {
                    out.push(format!(
                        "{}: - {}",
                        plan_name(*plan),
                        channel_name(*channel)
                    ));
                }
                for channel in now.iter().filter(|c| !was.contains(c)) {
                    out.push(format!(
                        "{}: + {}",
                        plan_name(*plan),
                        channel_name(*channel)
                    ));
                }
            }
        }
    }
    for (plan, now) in new.iter().filter(|(plan, _)| !old.contains_key(*plan)) {
        out.push(format!(
            "+ {} ({})",
            plan_name(*plan),
            names(now, channel_name)
        ));
    }
    out
}

fn targets(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    let cells = |policy: &pb::Policy| -> BTreeMap<(i32, i32), String> {
        policy
            .response_targets
            .iter()
            .map(|t| ((t.plan, t.priority), span(t.target.as_ref())))
            .collect()
    };
    let (old, new) = (cells(from), cells(to));
    let label =
        |(plan, priority): (i32, i32)| format!("{} × {}", plan_name(plan), priority_name(priority));
    let mut out = Vec::new();
    for (key, was) in &old {
        match new.get(key) {
            Some(now) => out.extend(changed(&label(*key), was, now)),
            None => out.push(format!("- {}: {was}", label(*key))),
        }
    }
    for (key, now) in new.iter().filter(|(key, _)| !old.contains_key(*key)) {
        out.push(format!("+ {}: {now}", label(*key)));
    }
    out
}

fn phone_lines(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    let lines = |policy: &pb::Policy| -> BTreeMap<String, pb::PhoneLine> {
        policy
            .phone_lines
            .iter()
            .map(|line| (line.number.clone(), line.clone()))
            .collect()
    };
    let describe = |line: &pb::PhoneLine| {
        format!(
            "{} {} ({}) ext {}",
            short_name::<pb::Region>(line.region),
            line.number,
            line.display_number,
            line.support_extension
        )
    };
    let (old, new) = (lines(from), lines(to));
    let mut out = Vec::new();
    for (number, was) in &old {
        let Some(now) = new.get(number) else {
            out.push(format!("- {}", describe(was)));
            continue;
        };
        out.extend(changed(
            &format!("{number} region"),
            short_name::<pb::Region>(was.region),
            short_name::<pb::Region>(now.region),
        ));
        out.extend(changed(
            &format!("{number} display number"),
            &quote(&was.display_number),
            &quote(&now.display_number),
        ));
        out.extend(changed(
            &format!("{number} support extension"),
            &quote(&was.support_extension),
            &quote(&now.support_extension),
        ));
    }
    for (_, now) in new.iter().filter(|(number, _)| !old.contains_key(*number)) {
        out.push(format!("+ {}", describe(now)));
    }
    out
}

fn priorities(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    let definitions = |policy: &pb::Policy| -> BTreeMap<i32, pb::PriorityDefinition> {
        policy
            .priorities
            .iter()
            .map(|d| (d.priority, d.clone()))
            .collect()
    };
    let (old, new) = (definitions(from), definitions(to));
    let mut out = Vec::new();
    for (priority, was) in &old {
        let level = priority_name(*priority);
        let Some(now) = new.get(priority) else {
            out.push(format!("- {level}"));
            continue;
        };
        for (field, a, b) in [
            ("name", &was.name, &now.name),
            ("meaning", &was.meaning, &now.meaning),
            ("workaround", &was.workaround, &now.workaround),
            ("effort", &was.effort, &now.effort),
        ] {
            out.extend(changed(&format!("{level} {field}"), &quote(a), &quote(b)));
        }
    }
    for (priority, now) in new.iter().filter(|(p, _)| !old.contains_key(*p)) {
        out.push(format!("+ {} {:?}", priority_name(*priority), now.name));
    }
    out
}

fn conditions<E: ProtoEnum>(values: &[i32]) -> String {
    names(values, short_name::<E>)
}

fn rules(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    let find = |policy: &pb::Policy, id: &str| {
        policy
            .priority_rules
            .iter()
            .find(|r| r.rule_id == id)
            .cloned()
    };
    let mut out = Vec::new();
    for was in &from.priority_rules {
        let id = &was.rule_id;
        let Some(now) = find(to, id) else {
            out.push(format!("- {id} ({})", priority_name(was.priority)));
            continue;
        };
        out.extend(changed(
            &format!("{id} priority"),
            priority_name(was.priority),
            priority_name(now.priority),
        ));
        out.extend(changed(
            &format!("{id} kinds"),
            &conditions::<pb::RequestKind>(&was.kinds),
            &conditions::<pb::RequestKind>(&now.kinds),
        ));
        out.extend(changed(
            &format!("{id} scopes"),
            &conditions::<pb::ImpactScope>(&was.scopes),
            &conditions::<pb::ImpactScope>(&now.scopes),
        ));
        out.extend(changed(
            &format!("{id} workarounds"),
            &conditions::<pb::Workaround>(&was.workarounds),
            &conditions::<pb::Workaround>(&now.workarounds),
        ));
        out.extend(changed(
            &format!("{id} description"),
            &quote(&was.description),
            &quote(&now.description),
        ));
    }
    for now in &to.priority_rules {
        if find(from, &now.rule_id).is_none() {
            out.push(format!(
                "+ {} ({}): {}",
                now.rule_id,
                priority_name(now.priority),
                now.description
            ));
        }
    }
    // The first matching rule decides, so an order change is a change.
    let order = |policy: &pb::Policy, other: &pb::Policy| -> Vec<String> {
        policy
            .priority_rules
            .iter()
            .filter(|r| find(other, &r.rule_id).is_some())
            .map(|r| r.rule_id.clone())
            .collect()
    };
    out.extend(changed(
        "order",
        &order(from, to).join(", "),
        &order(to, from).join(", "),
    ));
    out
}

fn at_risk(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    changed(
        "at risk after",
        &format!("{} %", from.at_risk_percent),
        &format!("{} %", to.at_risk_percent),
    )
    .into_iter()
    .collect()
}

fn support_hours(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    let (was, now) = (
        from.support_hours.clone().unwrap_or_default(),
        to.support_hours.clone().unwrap_or_default(),
    );
    [
        changed(
            "always open",
            &was.always_open.to_string(),
            &now.always_open.to_string(),
        ),
        changed(
            "description",
            &quote(&was.description),
            &quote(&now.description),
        ),
        changed(
            "response clock",
            &quote(&was.response_clock),
            &quote(&now.response_clock),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn service_name(kind: i32) -> &'static str {
    pb::ServiceKind::try_from(kind).map_or("?", |k| k.as_str_name())
}

fn services(from: &pb::Policy, to: &pb::Policy) -> Vec<String> {
    let (old, new) = (&from.professional_services, &to.professional_services);
    old.iter()
        .filter(|k| !new.contains(k))
        .map(|k| format!("- {}", service_name(*k)))
        .chain(
            new.iter()
                .filter(|k| !old.contains(k))
                .map(|k| format!("+ {}", service_name(*k))),
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(h: i64) -> Option<prost_types::Duration> {
        Some(prost_types::Duration {
            seconds: h * 3_600,
            nanos: 0,
        })
    }

    fn policy() -> pb::Policy {
        pb::Policy {
            version: "v1".into(),
            plan_channels: vec![
                pb::PlanChannels {
                    plan: pb::Plan::Free.into(),
                    channels: vec![pb::Channel::WebForm.into()],
                },
                pb::PlanChannels {
                    plan: pb::Plan::Pro.into(),
                    channels: vec![pb::Channel::WebForm.into(), pb::Channel::Chat.into()],
                },
            ],
            phone_lines: vec![pb::PhoneLine {
                region: pb::Region::Us.into(),
                number: "+18887999666".into(),
                display_number: "+1 888 799 9666".into(),
                support_extension: "2".into(),
            }],
            priorities: vec![pb::PriorityDefinition {
                priority: pb::Priority::P1Urgent.into(),
                name: "Urgent".into(),
                meaning: "Down".into(),
                workaround: "none".into(),
                effort: "Around the clock".into(),
            }],
            response_targets: vec![
                pb::ResponseTarget {
                    plan: pb::Plan::Pro.into(),
                    priority: pb::Priority::P1Urgent.into(),
                    target: hours(1),
                },
                pb::ResponseTarget {
                    plan: pb::Plan::Free.into(),
                    priority: pb::Priority::P1Urgent.into(),
                    target: hours(24),
                },
            ],
            priority_rules: vec![
                pb::PriorityRule {
                    rule_id: "down".into(),
                    description: "Down: P1".into(),
                    priority: pb::Priority::P1Urgent.into(),
                    kinds: vec![pb::RequestKind::Problem.into()],
                    scopes: vec![pb::ImpactScope::ServiceDown.into()],
                    workarounds: vec![],
                },
                pb::PriorityRule {
                    rule_id: "rest".into(),
                    description: "The rest: P4".into(),
                    priority: pb::Priority::P4Low.into(),
                    ..Default::default()
                },
            ],
            support_hours: Some(pb::SupportHours {
                always_open: true,
                description: "24/7".into(),
                response_clock: "calendar".into(),
            }),
            at_risk_percent: 75,
            professional_services: vec![pb::ServiceKind::Training.into()],
        }
    }

    fn changes(diff: &[TableDiff], table: &str) -> Vec<String> {
        diff.iter()
            .find(|t| t.table == table)
            .map(|t| t.changes.clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_policy_does_not_differ_from_itself() {
        assert!(diff(&policy(), &policy()).is_empty());
    }

    #[test]
    fn channels_and_plans_added_and_removed_are_listed_per_plan() {
        let mut to = policy();
        to.plan_channels[1].channels = vec![pb::Channel::Chat.into(), pb::Channel::Phone.into()];
        to.plan_channels.remove(0);
        to.plan_channels.push(pb::PlanChannels {
            plan: pb::Plan::Business.into(),
            channels: vec![pb::Channel::Phone.into()],
        });
        let diff = diff(&policy(), &to);
        assert_eq!(
            changes(&diff, "plans and channels"),
            [
                "- PLAN_FREE (had CHANNEL_WEB_FORM)",
                "PLAN_PRO: - CHANNEL_WEB_FORM",
                "PLAN_PRO: + CHANNEL_PHONE",
                "+ PLAN_BUSINESS (CHANNEL_PHONE)",
            ]
        );
        assert_eq!(diff.len(), 1, "{diff:?}");
    }

    #[test]
    fn targets_are_compared_cell_by_cell() {
        let mut to = policy();
        to.response_targets[0].target = Some(prost_types::Duration {
            seconds: 1_800,
            nanos: 0,
        });
        to.response_targets.remove(1);
        to.response_targets.push(pb::ResponseTarget {
            plan: pb::Plan::Pro.into(),
            priority: pb::Priority::P2High.into(),
            target: hours(4),
        });
        assert_eq!(
            changes(&diff(&policy(), &to), "response targets"),
            [
                "- PLAN_FREE × P1 Urgent: 24h",
                "PLAN_PRO × P1 Urgent: 1h → 30m",
                "+ PLAN_PRO × P2 High: 4h",
            ]
        );
    }

    #[test]
    fn phone_lines_are_matched_by_number() {
        let mut to = policy();
        to.phone_lines[0].support_extension = "3".into();
        to.phone_lines.push(pb::PhoneLine {
            region: pb::Region::Uk.into(),
            number: "+448003687314".into(),
            display_number: "+44 800 368 7314".into(),
            support_extension: "2".into(),
        });
        assert_eq!(
            changes(&diff(&policy(), &to), "phone lines"),
            [
                r#"+18887999666 support extension: "2" → "3""#,
                "+ UK +448003687314 (+44 800 368 7314) ext 2",
            ]
        );
        assert_eq!(
            changes(&diff(&to, &policy()), "phone lines"),
            [
                r#"+18887999666 support extension: "3" → "2""#,
                "- UK +448003687314 (+44 800 368 7314) ext 2",
            ]
        );
    }

    #[test]
    fn rules_are_matched_by_id_and_their_order_counts() {
        let mut to = policy();
        to.priority_rules[0].priority = pb::Priority::P2High.into();
        to.priority_rules[0].workarounds = vec![pb::Workaround::None.into()];
        to.priority_rules.reverse();
        to.priority_rules.push(pb::PriorityRule {
            rule_id: "new".into(),
            description: "New: P3".into(),
            priority: pb::Priority::P3Normal.into(),
            ..Default::default()
        });
        assert_eq!(
            changes(&diff(&policy(), &to), "priority rules"),
            [
                "down priority: P1 Urgent → P2 High",
                "down workarounds: (any) → NONE",
                "+ new (P3 Normal): New: P3",
                "order: down, rest → rest, down",
            ]
        );
        let mut gone = policy();
        gone.priority_rules.remove(1);
        assert_eq!(
            changes(&diff(&policy(), &gone), "priority rules"),
            ["- rest (P4 Low)"]
        );
    }

    #[test]
    fn definitions_threshold_hours_services_and_label_are_compared() {
        let mut to = policy();
        to.version = "v2".into();
        to.priorities[0].effort = "Always".into();
        to.at_risk_percent = 80;
        to.support_hours.as_mut().unwrap().description = "Weekdays".into();
        to.professional_services = vec![pb::ServiceKind::Consulting.into()];
        let diff = diff(&policy(), &to);
        let tables: Vec<&str> = diff.iter().map(|t| t.table).collect();
        assert_eq!(
            tables,
            [
                "version",
                "priority definitions",
                "at-risk threshold",
                "support hours",
                "professional services"
            ]
        );
        assert_eq!(changes(&diff, "version"), [r#"label: "v1" → "v2""#]);
        assert_eq!(
            changes(&diff, "priority definitions"),
            [r#"P1 Urgent effort: "Around the clock" → "Always""#]
        );
        assert_eq!(
            changes(&diff, "at-risk threshold"),
            ["at risk after: 75 % → 80 %"]
        );
        assert_eq!(
            changes(&diff, "support hours"),
            [r#"description: "24/7" → "Weekdays""#]
        );
        assert_eq!(
            changes(&diff, "professional services"),
            ["- SERVICE_KIND_TRAINING", "+ SERVICE_KIND_CONSULTING"]
        );
    }

    #[test]
    fn spans_read_as_an_operator_writes_them() {
        let span_of = |seconds| span(Some(&prost_types::Duration { seconds, nanos: 0 }));
        assert_eq!(span_of(1_800), "30m");
        assert_eq!(span_of(3_600), "1h");
        assert_eq!(span_of(5_400), "1h30m");
        assert_eq!(span_of(86_400), "24h");
        assert_eq!(span_of(129_600), "36h");
        assert_eq!(span_of(90), "1m30s");
        assert_eq!(span_of(0), "0s");
        assert_eq!(span(None), "-");
    }
}
