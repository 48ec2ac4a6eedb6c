//! `ticketctl`: the operator CLI, a client of ticketd's gRPC API built on the
//! generated Rust client.

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};
use ticketd::client::{AuthedChannel, Bearer, policy_client, ticket_client};
use ticketd::proto::pb;
use ticketd::proto::pb::policy_service_client::PolicyServiceClient;
use ticketd::proto::pb::ticket_service_client::TicketServiceClient;
use tonic::transport::Channel;
use tonic_types::StatusExt;

#[derive(Parser)]
#[command(name = "ticketctl", version, about = "Operate a ticketd server")]
struct Cli {
    /// ticketd's address.
    #[arg(
        long,
        env = "TICKETD_ADDR",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    server: String,
    /// The bearer token `ticketd admin credentials issue` printed.
    #[arg(long, env = "TICKETD_TOKEN", hide_env_values = true, global = true)]
    token: Option<String>,
    /// PEM CA certificate to trust for an `https://` server (default: the
    /// system's roots are not used; name the CA that signed the server).
    #[arg(long, env = "TICKETD_CA_CERT", global = true)]
    ca_cert: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Customer accounts and their plans.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Support tickets.
    #[command(subcommand)]
    Ticket(Box<TicketCommand>),
    /// The support policy in force.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// What is due, at risk or breached; compliance over a period.
    #[command(subcommand)]
    Sla(SlaCommand),
}

#[derive(Subcommand)]
enum SlaCommand {
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

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account.
    Create {
        /// Account id: 3-63 lower-case letters, digits, hyphens.
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum)]
        plan: Plan,
    },
    /// Show an account.
    Get { id: String },
    /// Change an account's name and/or plan.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_enum)]
        plan: Option<Plan>,
    },
    /// List accounts.
    List {
        #[arg(long, default_value_t = 50)]
        page_size: i32,
    },
}

#[derive(Subcommand)]
enum TicketCommand {
    /// Submit a ticket from one channel: give --chat-session, --email or --call-id.
    Create(Box<CreateTicket>),
    /// Show a ticket by number or by name (tickets/{uuid}).
    Get { ticket: String },
    /// Record the first response: the customer was told the ticket is registered.
    Ack {
        ticket: String,
        #[arg(long)]
        responder: String,
        #[arg(long, value_enum)]
        method: MethodArg,
    },
    /// Set IN_PROGRESS or WAITING_ON_CUSTOMER.
    Status {
        ticket: String,
        #[arg(value_enum)]
        status: WorkStatusArg,
        #[arg(long)]
        actor: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Mark resolved.
    Resolve {
        ticket: String,
        #[arg(long)]
        actor: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Reopen a resolved ticket.
    Reopen {
        ticket: String,
        #[arg(long)]
        actor: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Close a resolved ticket.
    Close {
        ticket: String,
        #[arg(long)]
        actor: String,
    },
    /// Change the priority, with a reason.
    Reprioritize {
        ticket: String,
        #[arg(long, value_enum)]
        priority: PriorityArg,
        #[arg(long)]
        actor: String,
        #[arg(long)]
        reason: String,
    },
    /// Show a ticket's history.
    Events { ticket: String },
    /// List tickets, newest first.
    List {
        #[arg(long)]
        account: Option<String>,
        #[arg(long, value_enum)]
        channel: Option<ChannelArg>,
        #[arg(long, value_enum)]
        priority: Option<PriorityArg>,
        #[arg(long, default_value_t = 20)]
        page_size: i32,
        /// Follow next_page_token to the last page.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args)]
struct CreateTicket {
    #[arg(long)]
    account: String,
    #[arg(long)]
    subject: String,
    #[arg(long, default_value = "")]
    description: String,
    #[command(flatten)]
    impact: ImpactArgs,
    /// Idempotency key: repeating the command with it never makes a second ticket.
    #[arg(long, default_value = "")]
    request_id: String,

    /// Chat: the chat platform's session id.
    #[arg(long, group = "origin", help_heading = "Chat")]
    chat_session: Option<String>,
    #[arg(long, default_value = "", help_heading = "Chat")]
    transcript_uri: String,
    #[arg(long, default_value = "", help_heading = "Chat")]
    first_message: String,

    /// Web form: the contact's e-mail address.
    #[arg(long, group = "origin", help_heading = "Web form")]
    email: Option<String>,
    #[arg(long, default_value = "", help_heading = "Web form")]
    contact_name: String,

    /// Phone: the IVR's call id.
    #[arg(long, group = "origin", help_heading = "Phone (IVR)")]
    call_id: Option<String>,
    /// Caller's number, E.164.
    #[arg(long, default_value = "", help_heading = "Phone (IVR)")]
    caller: String,
    /// Support line dialed, E.164.
    #[arg(long, default_value = "", help_heading = "Phone (IVR)")]
    dialed: String,
    #[arg(long, value_enum, help_heading = "Phone (IVR)")]
    region: Option<RegionArg>,
}

#[derive(Args)]
struct ImpactArgs {
    /// What the customer asks for.
    #[arg(long, value_enum)]
    kind: KindArg,
    /// For problems: how much of the service is affected.
    #[arg(long, value_enum)]
    scope: Option<ScopeArg>,
    /// For outages and degradations: whether a workaround exists.
    #[arg(long, value_enum)]
    workaround: Option<WorkaroundArg>,
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the whole policy.
    Show,
    /// Does a plan (or an account's plan) include a channel?
    Check {
        #[arg(long, value_enum)]
        channel: ChannelArg,
        #[arg(long, value_enum, conflicts_with = "account")]
        plan: Option<Plan>,
        #[arg(long)]
        account: Option<String>,
    },
    /// Which priority would this impact get?
    Classify(ImpactArgs),
    /// When is the first response due?
    Deadline {
        #[arg(long, value_enum)]
        plan: Plan,
        #[arg(long, value_enum)]
        priority: PriorityArg,
        /// RFC 3339; default now.
        #[arg(long)]
        received_at: Option<DateTime<Utc>>,
    },
}

/// Mirrors a protobuf enum as a CLI value.
macro_rules! cli_enum {
    ($name:ident => $proto:ident { $($variant:ident),+ $(,)? }) => {
        #[derive(Clone, Copy, ValueEnum)]
        enum $name { $($variant),+ }
        impl From<$name> for i32 {
            fn from(value: $name) -> i32 {
                match value { $($name::$variant => pb::$proto::$variant as i32),+ }
            }
        }
    };
}

cli_enum!(Plan => Plan { Free, Pro, Business, Education, Api });
cli_enum!(ChannelArg => Channel { WebForm, Chat, Phone });
cli_enum!(PriorityArg => Priority { P1Urgent, P2High, P3Normal, P4Low });
cli_enum!(RegionArg => Region { Us, Au, Uk });
cli_enum!(MethodArg => NotificationMethod { Email, ChatMessage, PhoneCall, WebPortal });
cli_enum!(WorkStatusArg => TicketStatus { InProgress, WaitingOnCustomer });
cli_enum!(KindArg => RequestKind { Problem, Information, Assistance, Feature, Change, PrereleaseAccess });
cli_enum!(ScopeArg => ImpactScope { ServiceDown, Degraded, FunctionImpaired, Minimal });
cli_enum!(WorkaroundArg => Workaround { None, Partial, Full });

impl From<&ImpactArgs> for pb::Impact {
    fn from(args: &ImpactArgs) -> Self {
        Self {
            kind: args.kind.into(),
            scope: args.scope.map_or(0, Into::into),
            workaround: args.workaround.map_or(0, Into::into),
        }
    }
}

fn ticket_name(ticket: &str) -> String {
    if ticket.starts_with("tickets/") {
        ticket.to_owned()
    } else {
        format!("tickets/{}", ticket.trim_start_matches('#'))
    }
}

fn account_name(id: &str) -> String {
    if id.starts_with("accounts/") {
        id.to_owned()
    } else {
        format!("accounts/{id}")
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match err.downcast_ref::<tonic::Status>() {
                Some(status) => print_status(status),
                None => eprintln!("error: {err:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut endpoint = Channel::from_shared(cli.server.clone())?;
    if let Some(ca) = &cli.ca_cert {
        let pem = std::fs::read(ca)
            .map_err(|err| anyhow::anyhow!("reading --ca-cert {}: {err}", ca.display()))?;
        endpoint = endpoint.tls_config(
            tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(pem)),
        )?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|err| anyhow::anyhow!("cannot reach ticketd at {}: {err}", cli.server))?;
    let bearer = match cli.token.as_deref().map(str::trim) {
        Some(token) if !token.is_empty() => Bearer::new(token)?,
        _ => Bearer::none(),
    };
    let mut tickets = ticket_client(channel.clone(), bearer.clone());
    let mut policy = policy_client(channel, bearer);
    match cli.command {
        Command::Account(command) => account(&mut tickets, command).await,
        Command::Ticket(command) => ticket(&mut tickets, *command).await,
        Command::Policy(command) => policy_cmd(&mut policy, command).await,
        Command::Sla(command) => sla(&mut tickets, command).await,
    }
}

async fn account(
    client: &mut TicketServiceClient<AuthedChannel>,
    command: AccountCommand,
) -> anyhow::Result<()> {
    match command {
        AccountCommand::Create { id, name, plan } => {
            let response = client
                .create_account(pb::CreateAccountRequest {
                    account_id: id,
                    account: Some(pb::Account {
                        display_name: name,
                        plan: plan.into(),
                        ..Default::default()
                    }),
                })
                .await?;
            print_account(&response.into_inner().account.unwrap_or_default());
        }
        AccountCommand::Get { id } => {
            let response = client
                .get_account(pb::GetAccountRequest {
                    name: account_name(&id),
                })
                .await?;
            print_account(&response.into_inner().account.unwrap_or_default());
        }
        AccountCommand::Update { id, name, plan } => {
            let mut paths = Vec::new();
            if name.is_some() {
                paths.push("display_name".to_owned());
            }
            if plan.is_some() {
                paths.push("plan".to_owned());
            }
            let response = client
                .update_account(pb::UpdateAccountRequest {
                    account: Some(pb::Account {
                        name: account_name(&id),
                        display_name: name.unwrap_or_default(),
                        plan: plan.map_or(0, Into::into),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask { paths }),
                })
                .await?;
            print_account(&response.into_inner().account.unwrap_or_default());
        }
        AccountCommand::List { page_size } => {
            let mut token = String::new();
            loop {
                let page = client
                    .list_accounts(pb::ListAccountsRequest {
                        page_size,
                        page_token: token,
                    })
                    .await?
                    .into_inner();
                for account in &page.accounts {
                    println!(
                        "{:<30} {:<16} {}",
                        account.name,
                        plan_name(account.plan),
                        account.display_name
                    );
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
    }
    Ok(())
}

async fn ticket(
    client: &mut TicketServiceClient<AuthedChannel>,
    command: TicketCommand,
) -> anyhow::Result<()> {
    match command {
        TicketCommand::Create(args) => {
            let args = *args;
            use pb::create_ticket_request::Origin;
            let origin = if let Some(session) = args.chat_session {
                Some(Origin::Chat(pb::ChatSession {
                    chat_session_id: session,
                    transcript_uri: args.transcript_uri,
                    first_message: args.first_message,
                }))
            } else if let Some(email) = args.email {
                Some(Origin::WebForm(pb::WebFormSubmission {
                    contact_email: email,
                    contact_name: args.contact_name,
                }))
            } else {
                args.call_id.map(|call_id| {
                    Origin::PhoneCall(pb::PhoneCall {
                        call_id,
                        caller_number: args.caller,
                        dialed_number: args.dialed,
                        region: args.region.map_or(0, Into::into),
                    })
                })
            };
            let response = client
                .create_ticket(pb::CreateTicketRequest {
                    account: account_name(&args.account),
                    origin,
                    subject: args.subject,
                    description: args.description,
                    impact: Some((&args.impact).into()),
                    request_id: args.request_id,
                })
                .await?;
            print_ticket(&response.into_inner().ticket.unwrap_or_default());
        }
        TicketCommand::Get { ticket } => {
            let name = ticket_name(&ticket);
            let response = client.get_ticket(pb::GetTicketRequest { name }).await?;
            print_ticket(&response.into_inner().ticket.unwrap_or_default());
        }
        TicketCommand::Ack {
            ticket,
            responder,
            method,
        } => {
            let request = pb::AcknowledgeTicketRequest {
                name: ticket_name(&ticket),
                responder,
                method: method.into(),
            };
            let response = client.acknowledge_ticket(request).await?.into_inner();
            print_ticket(&response.ticket.unwrap_or_default());
        }
        TicketCommand::Status {
            ticket,
            status,
            actor,
            note,
        } => {
            let request = pb::UpdateTicketStatusRequest {
                name: ticket_name(&ticket),
                status: status.into(),
                actor,
                note,
            };
            let response = client.update_ticket_status(request).await?.into_inner();
            print_ticket(&response.ticket.unwrap_or_default());
        }
        TicketCommand::Resolve {
            ticket,
            actor,
            note,
        } => {
            let request = pb::ResolveTicketRequest {
                name: ticket_name(&ticket),
                actor,
                note,
            };
            let response = client.resolve_ticket(request).await?.into_inner();
            print_ticket(&response.ticket.unwrap_or_default());
        }
        TicketCommand::Reopen {
            ticket,
            actor,
            reason,
        } => {
            let request = pb::ReopenTicketRequest {
                name: ticket_name(&ticket),
                actor,
                reason,
            };
            let response = client.reopen_ticket(request).await?.into_inner();
            print_ticket(&response.ticket.unwrap_or_default());
        }
        TicketCommand::Close { ticket, actor } => {
            let request = pb::CloseTicketRequest {
                name: ticket_name(&ticket),
                actor,
            };
            let response = client.close_ticket(request).await?.into_inner();
            print_ticket(&response.ticket.unwrap_or_default());
        }
        TicketCommand::Reprioritize {
            ticket,
            priority,
            actor,
            reason,
        } => {
            let request = pb::ReprioritizeTicketRequest {
                name: ticket_name(&ticket),
                priority: priority.into(),
                actor,
                reason,
            };
            let response = client.reprioritize_ticket(request).await?.into_inner();
            print_ticket(&response.ticket.unwrap_or_default());
        }
        TicketCommand::Events { ticket } => {
            let mut token = String::new();
            loop {
                let page = client
                    .list_ticket_events(pb::ListTicketEventsRequest {
                        name: ticket_name(&ticket),
                        page_size: 100,
                        page_token: token,
                    })
                    .await?
                    .into_inner();
                for event in &page.events {
                    let kind = pb::TicketEventKind::try_from(event.kind)
                        .map_or("?", |k| k.as_str_name())
                        .trim_start_matches("TICKET_EVENT_KIND_");
                    let sla = pb::SlaState::try_from(event.sla_state)
                        .map_or("?", |s| s.as_str_name())
                        .trim_start_matches("SLA_STATE_");
                    println!(
                        "{}  {:<22} sla {:<9} by {:<16} {}",
                        time(event.occur_time.as_ref()),
                        kind,
                        sla,
                        event.actor,
                        event.note
                    );
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                token = page.next_page_token;
            }
        }
        TicketCommand::List {
            account,
            channel,
            priority,
            page_size,
            all,
        } => {
            let mut token = String::new();
            loop {
                let page = client
                    .list_tickets(pb::ListTicketsRequest {
                        page_size,
                        page_token: token,
                        account: account.as_deref().map(account_name).unwrap_or_default(),
                        channel: channel.map_or(0, Into::into),
                        priority: priority.map_or(0, Into::into),
                        status: 0,
                    })
                    .await?
                    .into_inner();
                for t in &page.tickets {
                    println!(
                        "#{:<6} {:<10} {:<16} {:<18} due {}  {}",
                        t.number,
                        priority_name(t.priority_decision.as_ref().map_or(0, |d| d.priority)),
                        channel_name(t.channel),
                        t.account,
                        time(t.response_due_at.as_ref()),
                        t.subject
                    );
                }
                if page.next_page_token.is_empty() {
                    break;
                }
                if !all {
                    println!("(more: repeat with --all)");
                    break;
                }
                token = page.next_page_token;
            }
        }
    }
    Ok(())
}

async fn policy_cmd(
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
                    target.target.as_ref().map_or(0, |d| d.seconds / 3600)
                );
            }
            println!("\nphone lines (support: extension 2):");
            for line in &policy.phone_lines {
                println!(
                    "  {:<4} {:<18} ext {}",
                    pb::Region::try_from(line.region)
                        .map_or("?", |r| r.as_str_name())
                        .trim_start_matches("REGION_"),
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
            if let Some(hours) = policy.support_hours {
                println!(
                    "\nsupport hours: {} Response clock: {}.",
                    hours.description, hours.response_clock
                );
            }
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
                answer.response_target.map_or(0, |d| d.seconds / 3600),
                time(answer.response_due_at.as_ref())
            );
        }
    }
    Ok(())
}

async fn sla(
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
    }
    Ok(())
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
                            let kind = pb::TicketEventKind::try_from(kind).map_or("?", |k| {
                                k.as_str_name().trim_start_matches("TICKET_EVENT_KIND_")
                            });
                            println!(
                                "{kind:<16} {}",
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

/// One ticket on an SLA wall: number, state, priority, deadline, subject.
fn wall_line(t: &pb::TicketSlaStatus) -> String {
    let state = pb::SlaState::try_from(t.sla_state)
        .map_or("?", |s| s.as_str_name().trim_start_matches("SLA_STATE_"));
    format!(
        "#{:<5} {:<9} {:<10} due {}  {}",
        t.number,
        state,
        priority_name(t.priority),
        time(t.response_due_at.as_ref()),
        t.subject
    )
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    ticketd::api::convert::timestamp(at)
}

fn plan_name(plan: i32) -> &'static str {
    pb::Plan::try_from(plan).map_or("?", |p| p.as_str_name())
}

fn channel_name(channel: i32) -> &'static str {
    pb::Channel::try_from(channel).map_or("?", |c| c.as_str_name())
}

fn priority_name(priority: i32) -> &'static str {
    match pb::Priority::try_from(priority) {
        Ok(pb::Priority::P1Urgent) => "P1 Urgent",
        Ok(pb::Priority::P2High) => "P2 High",
        Ok(pb::Priority::P3Normal) => "P3 Normal",
        Ok(pb::Priority::P4Low) => "P4 Low",
        _ => "?",
    }
}

fn time(ts: Option<&prost_types::Timestamp>) -> String {
    ts.and_then(|ts| DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).unwrap_or(0)))
        .map_or_else(
            || "-".to_owned(),
            |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
}

fn print_account(account: &pb::Account) {
    println!("{}", account.name);
    println!("  name:    {}", account.display_name);
    println!("  plan:    {}", plan_name(account.plan));
    println!("  created: {}", time(account.create_time.as_ref()));
    println!("  updated: {}", time(account.update_time.as_ref()));
}

fn print_ticket(ticket: &pb::Ticket) {
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
        "  due:      {} (target {} h)",
        time(ticket.response_due_at.as_ref()),
        ticket
            .response_target
            .as_ref()
            .map_or(0, |d| d.seconds / 3600)
    );
}

/// Prints a status with its machine-readable details, so an operator sees
/// which field is wrong or which channels a plan allows.
fn print_status(status: &tonic::Status) {
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
