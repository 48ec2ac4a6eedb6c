//! `ticketctl policy …`: the support policy in force, and policy documents
//! checked and compared against it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use ticketd_client::client::AuthedChannel;
use ticketd_client::proto::pb;
use ticketd_client::proto::pb::policy_service_client::PolicyServiceClient;

use tonic_types::StatusExt;

use crate::output::{channel_name, plan_name, priority_name, span, time};
use crate::policy_diff::diff;
use crate::values::{every, short_name};
use crate::{account_name, timestamp};

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Print the whole policy.
    Show,
    /// Does a plan (or an account's plan) include a channel?
    Check {
        #[arg(long, value_parser = every::<pb::Channel>())]
        channel: pb::Channel,
        #[arg(long, value_parser = every::<pb::Plan>(), conflicts_with = "account")]
        plan: Option<pb::Plan>,
        #[arg(long)]
        account: Option<String>,
    },
    /// Which priority would this impact get?
    Classify(ImpactArgs),
    /// When is the first response due?
    Deadline {
        #[arg(long, value_parser = every::<pb::Plan>())]
        plan: pb::Plan,
        #[arg(long, value_parser = every::<pb::Priority>())]
        priority: pb::Priority,
        /// RFC 3339; default now.
        #[arg(long)]
        received_at: Option<DateTime<Utc>>,
    },
    /// Check a policy document (TOML, shaped as policy/published.toml)
    /// without activating it: prints "valid" and a summary, or every problem
    /// as `line N: path: message` and exits with status 1.
    Validate {
        /// The policy document.
        file: PathBuf,
    },
    /// What would change, table by table and cell by cell, from one policy
    /// to another.
    Diff {
        /// The policy document to compare from; default the policy in force.
        #[arg(long)]
        from: Option<PathBuf>,
        /// The policy document to compare to.
        #[arg(long)]
        to: PathBuf,
    },
}

#[derive(Args)]
pub struct ImpactArgs {
    /// What the customer asks for.
    #[arg(long, value_parser = every::<pb::RequestKind>())]
    kind: pb::RequestKind,
    /// For problems: how much of the service is affected.
    #[arg(long, value_parser = every::<pb::ImpactScope>())]
    scope: Option<pb::ImpactScope>,
    /// For outages and degradations: whether a workaround exists.
    #[arg(long, value_parser = every::<pb::Workaround>())]
    workaround: Option<pb::Workaround>,
}

impl From<&ImpactArgs> for pb::Impact {
    fn from(args: &ImpactArgs) -> Self {
        Self {
            kind: args.kind.into(),
            scope: args.scope.map_or(0, Into::into),
            workaround: args.workaround.map_or(0, Into::into),
        }
    }
}

pub async fn run(
    client: &mut PolicyServiceClient<AuthedChannel>,
    command: PolicyCommand,
) -> anyhow::Result<()> {
    match command {
        PolicyCommand::Show => {
            let policy = client
                .get_policy(pb::GetPolicyRequest {})
                .await?
                .into_inner()
                .policy
                .unwrap_or_default();
            print_policy(&policy);
        }
        PolicyCommand::Check {
            channel,
            plan,
            account,
        } => {
            let answer = client
                .check_channel(pb::CheckChannelRequest {
                    account: account.as_deref().map(account_name).unwrap_or_default(),
                    plan: plan.map_or(0, Into::into),
                    channel: channel.into(),
                })
                .await?
                .into_inner();
            let allowed: Vec<&str> = answer
                .allowed_channels
                .iter()
                .map(|c| channel_name(*c))
                .collect();
            println!(
                "{} {} {}; allowed: {}",
                plan_name(answer.plan),
                if answer.allowed {
                    "includes"
                } else {
                    "does not include"
                },
                channel_name(channel.into()),
                allowed.join(", ")
            );
        }
        PolicyCommand::Classify(impact) => {
            let decision = client
                .classify_priority(pb::ClassifyPriorityRequest {
                    impact: Some((&impact).into()),
                })
                .await?
                .into_inner()
                .decision
                .unwrap_or_default();
            println!(
                "{} by rule {}: {}",
                priority_name(decision.priority),
                decision.rule_id,
                decision.rule_description
            );
        }
        PolicyCommand::Deadline {
            plan,
            priority,
            received_at,
        } => {
            let received_at = received_at.unwrap_or_else(Utc::now);
            let answer = client
                .compute_deadline(pb::ComputeDeadlineRequest {
                    plan: plan.into(),
                    priority: priority.into(),
                    received_at: Some(timestamp(received_at)),
                })
                .await?
                .into_inner();
            println!(
                "target {}; due {}",
                span(answer.response_target.as_ref()),
                time(answer.response_due_at.as_ref())
            );
        }
        PolicyCommand::Validate { file } => {
            let policy = validated(client, &file).await?;
            println!("valid: {}", summary(&policy));
        }
        PolicyCommand::Diff { from, to } => {
            let (old, old_source) = match &from {
                Some(file) => (validated(client, file).await?, file.display().to_string()),
                None => (
                    client
                        .get_policy(pb::GetPolicyRequest {})
                        .await?
                        .into_inner()
                        .policy
                        .unwrap_or_default(),
                    "in force".to_owned(),
                ),
            };
            let new = validated(client, &to).await?;
            println!(
                "policy {:?} ({old_source}) → {:?} ({})",
                old.version,
                new.version,
                to.display()
            );
            let tables = diff(&old, &new);
            if tables.is_empty() {
                println!("no differences");
            }
            for table in tables {
                println!("\n{}:", table.table);
                for change in table.changes {
                    println!("  {change}");
                }
            }
        }
    }
    Ok(())
}

/// The policy `file` defines, as the server reads it. A document with
/// problems is an error, after each problem is printed as
/// `line N: path: message`.
async fn validated(
    client: &mut PolicyServiceClient<AuthedChannel>,
    file: &Path,
) -> anyhow::Result<pb::Policy> {
    let document = std::fs::read_to_string(file)
        .with_context(|| format!("reading policy document {}", file.display()))?;
    let status = match client
        .validate_policy_document(pb::ValidatePolicyDocumentRequest { document })
        .await
    {
        Ok(answer) => return Ok(answer.into_inner().policy.unwrap_or_default()),
        Err(status) => status,
    };
    let Some(bad) = status
        .get_details_bad_request()
        .filter(|_| status.code() == tonic::Code::InvalidArgument)
    else {
        return Err(status.into());
    };
    let mut problems = 0;
    for violation in &bad.field_violations {
        for line in problem_lines(&violation.field, &violation.description) {
            println!("{line}");
            problems += 1;
        }
    }
    anyhow::bail!(
        "{} is not a valid policy document ({problems} problem{})",
        file.display(),
        if problems == 1 { "" } else { "s" }
    )
}

/// A violation of ValidatePolicyDocument as problem lines: its field is
/// `document.` and the path, its description `line N: message`, several of
/// them joined by `; ` when they share a path.
fn problem_lines(field: &str, description: &str) -> Vec<String> {
    let path = field
        .strip_prefix("document.")
        .unwrap_or(if field == "document" {
            "(document)"
        } else {
            field
        });
    description
        .split("; line ")
        .enumerate()
        .map(|(i, part)| {
            let part = if i == 0 {
                part.to_owned()
            } else {
                format!("line {part}")
            };
            match part
                .strip_prefix("line ")
                .and_then(|rest| rest.split_once(": "))
                .filter(|(n, _)| n.bytes().all(|b| b.is_ascii_digit()))
            {
                Some((line, message)) => format!("line {line}: {path}: {message}"),
                None => format!("{path}: {part}"),
            }
        })
        .collect()
}

/// One line about a policy: its label and the size of each table.
fn summary(policy: &pb::Policy) -> String {
    format!(
        "policy {:?}: {} plans, {} response targets, {} phone lines, {} priorities, \
         {} priority rules, at risk after {} %, {} professional services",
        policy.version,
        policy.plan_channels.len(),
        policy.response_targets.len(),
        policy.phone_lines.len(),
        policy.priorities.len(),
        policy.priority_rules.len(),
        policy.at_risk_percent,
        policy.professional_services.len()
    )
}

fn print_policy(policy: &pb::Policy) {
    println!("policy {}", policy.version);
    println!("\nchannels by plan:");
    for row in &policy.plan_channels {
        let channels: Vec<&str> = row.channels.iter().map(|c| channel_name(*c)).collect();
        println!("  {:<16} {}", plan_name(row.plan), channels.join(", "));
    }
    println!("\nresponse targets:");
    for target in &policy.response_targets {
        println!(
            "  {:<16} {:<10} {}",
            plan_name(target.plan),
            priority_name(target.priority),
            span(target.target.as_ref())
        );
    }
    println!("\nphone lines (support: extension 2):");
    for line in &policy.phone_lines {
        println!(
            "  {:<4} {:<18} ext {}",
            short_name::<pb::Region>(line.region),
            line.display_number,
            line.support_extension
        );
    }
    println!("\npriorities:");
    for p in &policy.priorities {
        println!(
            "  {} {}: {} (workaround: {})",
            priority_name(p.priority),
            p.name,
            p.meaning,
            p.workaround
        );
    }
    println!("\npriority rules, first match wins:");
    for rule in &policy.priority_rules {
        println!("  {:<34} {}", rule.rule_id, rule.description);
    }
    if let Some(hours) = &policy.support_hours {
        println!(
            "\nsupport hours: {} Response clock: {}.",
            hours.description, hours.response_clock
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_is_printed_with_its_line_and_path() {
        assert_eq!(
            problem_lines(
                "document.targets.first_response.pro.p1",
                "line 12: a target of \"0m\" is not positive"
            ),
            ["line 12: targets.first_response.pro.p1: a target of \"0m\" is not positive"]
        );
        assert_eq!(
            problem_lines(
                "document.plans",
                "line 3: plan \"pro\" is missing; line 3: plan \"api\" is missing"
            ),
            [
                "line 3: plans: plan \"pro\" is missing",
                "line 3: plans: plan \"api\" is missing"
            ]
        );
        assert_eq!(
            problem_lines("document", "is required"),
            ["(document): is required"]
        );
    }
}
