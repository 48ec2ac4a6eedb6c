//! `ticketctl sla …`: what is due, at risk or breached; compliance over a period.

use chrono::{DateTime, Utc};
use clap::Subcommand;
use ticketd_client::client::AuthedChannel;
use ticketd_client::proto::pb;
use ticketd_client::proto::pb::ticket_service_client::TicketServiceClient;

use crate::output::{channel_name, plan_name, priority_name, time, wall_line};
use crate::timestamp;
use crate::values::short_name;

#[derive(Subcommand)]
pub enum SlaCommand {
    /// Unanswered tickets by deadline.
    Due {
        /// Only tickets due within this window, e.g. 30m, 4h, 90s.
        #[arg(long, value_parser = parse_window)]
        within: Option<std::time::Duration>,
        /// Only tickets at risk.
        #[arg(long)]
        at_risk: bool,
        /// Only breached tickets.
        #[arg(long)]
        breached: bool,
        #[arg(long, default_value_t = 100)]
        limit: i32,
    },
    /// Compliance per plan × priority × channel for tickets received in a period.
    /// Follows open tickets' SLA status live: a snapshot, then every change.
    /// Reconnects from the last cursor if the stream ends.
    Watch {
        /// Only this account's tickets.
        #[arg(long)]
        account: Option<String>,
        /// Only tickets at risk or breached.
        #[arg(long)]
        at_risk_or_breached: bool,
        /// Resume after this cursor instead of starting with a snapshot.
        #[arg(long)]
        resume: Option<String>,
    },
    Report {
        /// RFC 3339 start (inclusive).
        #[arg(long)]
        from: DateTime<Utc>,
        /// RFC 3339 end (exclusive); default now.
        #[arg(long)]
        to: Option<DateTime<Utc>>,
    },
}

/// `30m`, `4h`, `90s` or `2d`.
fn parse_window(text: &str) -> Result<std::time::Duration, String> {
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: use e.g. 30m, 4h, 90s"))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

pub async fn run(
    client: &mut TicketServiceClient<AuthedChannel>,
    command: SlaCommand,
) -> anyhow::Result<()> {
    match command {
        SlaCommand::Due {
            within,
            at_risk,
            breached,
            limit,
        } => {
            let mut states = Vec::new();
            if at_risk {
                states.push(pb::SlaState::AtRisk.into());
            }
            if breached {
                states.push(pb::SlaState::Breached.into());
            }
            let page = client
                .list_tickets_by_deadline(pb::ListTicketsByDeadlineRequest {
                    due_within: within.map(|w| prost_types::Duration {
                        seconds: i64::try_from(w.as_secs()).unwrap_or(i64::MAX),
                        nanos: 0,
                    }),
                    sla_states: states,
                    page_size: limit,
                    ..Default::default()
                })
                .await?
                .into_inner();
            for t in &page.tickets {
                println!(
                    "#{:<6} due {}  {:<10} {:<16} {:<14} {}",
                    t.number,
                    time(t.response_due_at.as_ref()),
                    priority_name(t.priority_decision.as_ref().map_or(0, |d| d.priority)),
                    plan_name(t.plan),
                    channel_name(t.channel),
                    t.subject
                );
            }
            if page.tickets.is_empty() {
                println!("nothing due");
            }
        }
        SlaCommand::Watch {
            account,
            at_risk_or_breached,
            resume,
        } => watch(client, account, at_risk_or_breached, resume).await?,
        SlaCommand::Report { from, to } => {
            let to = to.unwrap_or_else(Utc::now);
            let report = client
                .get_compliance_report(pb::GetComplianceReportRequest {
                    start_time: Some(timestamp(from)),
                    end_time: Some(timestamp(to)),
                })
                .await?
                .into_inner();
            print_report(&report);
        }
    }
    Ok(())
}

fn print_report(report: &pb::GetComplianceReportResponse) {
    println!(
        "{:<16} {:<10} {:<16} {:>8} {:>6} {:>6} {:>8} {:>8} {:>9} {:>9} {:>7}",
        "plan",
        "priority",
        "channel",
        "received",
        "met",
        "missed",
        "breached",
        "waiting",
        "median",
        "p90",
        "good %"
    );
    let span = |d: Option<&prost_types::Duration>| {
        d.map_or_else(
            || "-".to_owned(),
            |d| format!("{}m{:02}s", d.seconds / 60, d.seconds % 60),
        )
    };
    for row in &report.rows {
        println!(
            "{:<16} {:<10} {:<16} {:>8} {:>6} {:>6} {:>8} {:>8} {:>9} {:>9} {:>7}",
            plan_name(row.plan),
            priority_name(row.priority),
            channel_name(row.channel),
            row.received,
            row.met,
            row.missed,
            row.breached,
            row.awaiting_response,
            span(row.median_time_to_first_response.as_ref()),
            span(row.p90_time_to_first_response.as_ref()),
            if row.surveys_answered > 0 {
                format!("{:.0}", row.satisfaction_good_percent)
            } else {
                "-".to_owned()
            }
        );
    }
}

/// Prints each update as a line; on a stream that ends with a status that
/// names a resume cursor (shutdown, slow consumer), reconnects from it.
async fn watch(
    client: &mut TicketServiceClient<AuthedChannel>,
    account: Option<String>,
    at_risk_or_breached: bool,
    mut cursor: Option<String>,
) -> anyhow::Result<()> {
    use pb::watch_sla_status_response::Update;
    loop {
        let request = pb::WatchSlaStatusRequest {
            account: account
                .as_deref()
                .map(|a| format!("accounts/{a}"))
                .unwrap_or_default(),
            sla_states: if at_risk_or_breached {
                vec![pb::SlaState::AtRisk.into(), pb::SlaState::Breached.into()]
            } else {
                Vec::new()
            },
            resume_cursor: cursor.clone().unwrap_or_default(),
            ..Default::default()
        };
        let mut stream = client.watch_sla_status(request).await?.into_inner();
        let ended = loop {
            match stream.message().await {
                Ok(Some(update)) => {
                    if !update.cursor.is_empty() {
                        cursor = Some(update.cursor.clone());
                    }
                    match update.update {
                        Some(Update::Ticket(t)) => println!("{:<16} {}", "OPEN", wall_line(&t)),
                        Some(Update::SnapshotEnd(end)) => {
                            println!("-- {} open tickets; live from here --", end.ticket_count)
                        }
                        Some(Update::Event(event)) => {
                            let kind = event.event.map_or(0, |e| e.kind);
                            println!(
                                "{:<16} {}",
                                short_name::<pb::TicketEventKind>(kind),
                                wall_line(&event.ticket.unwrap_or_default())
                            )
                        }
                        Some(Update::Heartbeat(_)) | None => {}
                    }
                }
                Ok(None) => break None,
                Err(status) => break Some(status),
            }
        };
        match ended {
            Some(status)
                if matches!(
                    status.code(),
                    tonic::Code::Unavailable | tonic::Code::ResourceExhausted
                ) && cursor.is_some() =>
            {
                eprintln!("stream ended ({}); resuming", status.message());
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Some(status) => return Err(status.into()),
            None => return Ok(()),
        }
    }
}
