//! `ticketctl policy …`: the support policy in force.

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use ticketd_client::client::AuthedChannel;
use ticketd_client::proto::pb;
use ticketd_client::proto::pb::policy_service_client::PolicyServiceClient;

use crate::output::{channel_name, hours, plan_name, priority_name, time};
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
                "target {} h; due {}",
                hours(answer.response_target.as_ref()),
                time(answer.response_due_at.as_ref())
            );
        }
    }
    Ok(())
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
            "  {:<16} {:<10} {} h",
            plan_name(target.plan),
            priority_name(target.priority),
            hours(target.target.as_ref())
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
