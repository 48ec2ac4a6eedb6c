//! How ticketctl prints what the server answers.

use chrono::DateTime;
use ticketd_client::proto::pb;
use tonic_types::StatusExt;

use crate::values::short_name;

pub fn plan_name(plan: i32) -> &'static str {
    pb::Plan::try_from(plan).map_or("?", |p| p.as_str_name())
}

pub fn channel_name(channel: i32) -> &'static str {
    pb::Channel::try_from(channel).map_or("?", |c| c.as_str_name())
}

pub fn priority_name(priority: i32) -> &'static str {
    match pb::Priority::try_from(priority) {
        Ok(pb::Priority::P1Urgent) => "P1 Urgent",
        Ok(pb::Priority::P2High) => "P2 High",
        Ok(pb::Priority::P3Normal) => "P3 Normal",
        Ok(pb::Priority::P4Low) => "P4 Low",
        _ => "?",
    }
}

pub fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0)))
        .map_or_else(
            || "-".to_owned(),
            |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

/// Whole hours of a response target, 0 when there is none.
/// A duration as the policy document writes it: `30m`, `4h`, `1h30m`, `24h`.
pub fn span(duration: Option<&prost_types::Duration>) -> String {
    let Some(duration) = duration else {
        return "-".to_owned();
    };
    let mut seconds = duration.seconds;
    if seconds <= 0 {
        return format!("{seconds}s");
    }
    let mut out = String::new();
    for (unit, size) in [("h", 3_600), ("m", 60), ("s", 1)] {
        if seconds >= size {
            out.push_str(&format!("{}{unit}", seconds / size));
            seconds %= size;
        }
    }
    out
}

pub fn print_account(account: &pb::Account) {
    println!("{}", account.name);
    println!("  name:    {}", account.display_name);
    println!("  plan:    {}", plan_name(account.plan));
    println!("  created: {}", time(account.create_time.as_ref()));
    println!("  updated: {}", time(account.update_time.as_ref()));
}

pub fn print_ticket(ticket: &pb::Ticket) {
    let decision = ticket.priority_decision.clone().unwrap_or_default();
    println!("ticket #{} ({})", ticket.number, ticket.name);
    println!(
        "  account:  {} on {}",
        ticket.account,
        plan_name(ticket.plan)
    );
    println!("  channel:  {}", channel_name(ticket.channel));
    println!("  subject:  {}", ticket.subject);
    println!(
        "  priority: {} (rule {}: {})",
        priority_name(decision.priority),
        decision.rule_id,
        decision.rule_description
    );
    println!(
        "  status:   {}, SLA {}",
        pb::TicketStatus::try_from(ticket.status).map_or("?", |s| s.as_str_name()),
        pb::SlaState::try_from(ticket.sla_state).map_or("?", |s| s.as_str_name())
    );
    println!("  received: {}", time(ticket.received_at.as_ref()));
    println!(
        "  due:      {} (target {})",
        time(ticket.response_due_at.as_ref()),
        span(ticket.response_target.as_ref())
    );
}

/// One ticket on an SLA wall: number, state, priority, deadline, subject.
pub fn wall_line(t: &pb::TicketSlaStatus) -> String {
    format!(
        "#{:<5} {:<9} {:<10} due {}  {}",
        t.number,
        short_name::<pb::SlaState>(t.sla_state),
        priority_name(t.priority),
        time(t.response_due_at.as_ref()),
        t.subject
    )
}

/// Prints a status with its machine-readable details, so an operator sees
/// which field is wrong or which channels a plan allows.
pub fn print_status(status: &tonic::Status) {
    eprintln!("error: {:?}: {}", status.code(), status.message());
    let details = status.get_error_details();
    if let Some(bad) = details.bad_request() {
        for violation in &bad.field_violations {
            eprintln!("  field {}: {}", violation.field, violation.description);
        }
    }
    if let Some(info) = details.error_info() {
        eprintln!("  reason: {}", info.reason);
        let mut metadata: Vec<_> = info.metadata.iter().collect();
        metadata.sort();
        for (key, value) in metadata {
            eprintln!("  {key}: {value}");
        }
    }
    if status.code() == tonic::Code::Unauthenticated {
        eprintln!(
            "  hint: set TICKETD_TOKEN to a token from `ticketd admin credentials issue` (run where the server runs)"
        );
    }
}
