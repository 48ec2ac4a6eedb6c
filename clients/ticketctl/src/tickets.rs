//! `ticketctl ticket …`: submitting tickets and the agent actions on them.

use clap::{Args, Subcommand};
use ticketd_client::client::AuthedChannel;
use ticketd_client::proto::pb;
use ticketd_client::proto::pb::ticket_service_client::TicketServiceClient;

use crate::output::{channel_name, print_ticket, priority_name, time};
use crate::policy::ImpactArgs;
use crate::values::{every, one_of, short_name};
use crate::{account_name, each_page, ticket_name};

#[derive(Subcommand)]
pub enum TicketCommand {
    /// Submit a ticket from one channel: give --chat-session, --email or --call-id.
    Create(Box<CreateTicket>),
    #[command(flatten)]
    Action(Action),
    /// Show a ticket's history.
    Events { ticket: String },
    /// List tickets, newest first.
    List {
        #[arg(long)]
        account: Option<String>,
        #[arg(long, value_parser = every::<pb::Channel>())]
        channel: Option<pb::Channel>,
        #[arg(long, value_parser = every::<pb::Priority>())]
        priority: Option<pb::Priority>,
        #[arg(long, default_value_t = 20)]
        page_size: i32,
        /// Follow next_page_token to the last page.
        #[arg(long)]
        all: bool,
    },
}

/// The agent actions: each names one ticket, sends one request about it and
/// prints the ticket the answer carries.
#[derive(Subcommand)]
pub enum Action {
    /// Show a ticket by number or by name (tickets/{uuid}).
    Get { ticket: String },
    /// Record the first response: the customer was told the ticket is registered.
    Ack {
        ticket: String,
        #[arg(long)]
        responder: String,
        #[arg(long, value_parser = every::<pb::NotificationMethod>())]
        method: pb::NotificationMethod,
    },
    /// Set IN_PROGRESS or WAITING_ON_CUSTOMER.
    Status {
        ticket: String,
        #[arg(value_parser = one_of(vec![
            pb::TicketStatus::InProgress,
            pb::TicketStatus::WaitingOnCustomer,
        ]))]
        status: pb::TicketStatus,
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
        #[arg(long, value_parser = every::<pb::Priority>())]
        priority: pb::Priority,
        #[arg(long)]
        actor: String,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
pub struct CreateTicket {
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
    #[arg(long, value_parser = every::<pb::Region>(), help_heading = "Phone (IVR)")]
    region: Option<pb::Region>,
}

impl From<CreateTicket> for pb::CreateTicketRequest {
    fn from(args: CreateTicket) -> Self {
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
        Self {
            account: account_name(&args.account),
            origin,
            subject: args.subject,
            description: args.description,
            impact: Some((&args.impact).into()),
            request_id: args.request_id,
        }
    }
}

pub async fn run(
    client: &mut TicketServiceClient<AuthedChannel>,
    command: TicketCommand,
) -> anyhow::Result<()> {
    match command {
        TicketCommand::Create(args) => {
            let request = pb::CreateTicketRequest::from(*args);
            let ticket = client.create_ticket(request).await?.into_inner().ticket;
            print_ticket(&ticket.unwrap_or_default());
            Ok(())
        }
        TicketCommand::Action(action) => act(client, action).await,
        TicketCommand::Events { ticket } => events(client, &ticket).await,
        TicketCommand::List {
            account,
            channel,
            priority,
            page_size,
            all,
        } => {
            let request = pb::ListTicketsRequest {
                page_size,
                page_token: String::new(),
                account: account.as_deref().map(account_name).unwrap_or_default(),
                channel: channel.map_or(0, Into::into),
                priority: priority.map_or(0, Into::into),
                status: 0,
            };
            list(client, request, all).await
        }
    }
}

/// The action table: for each [`Action`], the RPC and its request's fields
/// but `name`, which is always the ticket the command names.
macro_rules! action_table {
    ($client:ident, $action:expr;
     $($variant:ident { $($field:ident),* } => $rpc:ident($request:ident { $($set:tt)* }),)+) => {
        match $action {
            $(Action::$variant { ticket, $($field),* } => {
                let request = pb::$request { name: ticket_name(&ticket), $($set)* };
                $client.$rpc(request).await?.into_inner().ticket
            })+
        }
    };
}

async fn act(
    client: &mut TicketServiceClient<AuthedChannel>,
    action: Action,
) -> anyhow::Result<()> {
    let ticket = action_table! { client, action;
        Get {} => get_ticket(GetTicketRequest {}),
        Ack { responder, method } =>
            acknowledge_ticket(AcknowledgeTicketRequest { responder, method: method.into() }),
        Status { status, actor, note } =>
            update_ticket_status(UpdateTicketStatusRequest { status: status.into(), actor, note }),
        Resolve { actor, note } => resolve_ticket(ResolveTicketRequest { actor, note }),
        Reopen { actor, reason } => reopen_ticket(ReopenTicketRequest { actor, reason }),
        Close { actor } => close_ticket(CloseTicketRequest { actor }),
        Reprioritize { priority, actor, reason } => reprioritize_ticket(
            ReprioritizeTicketRequest { priority: priority.into(), actor, reason }
        ),
    };
    print_ticket(&ticket.unwrap_or_default());
    Ok(())
}

async fn events(
    client: &mut TicketServiceClient<AuthedChannel>,
    ticket: &str,
) -> anyhow::Result<()> {
    each_page(async |page_token| {
        let page = client
            .list_ticket_events(pb::ListTicketEventsRequest {
                name: ticket_name(ticket),
                page_size: 100,
                page_token,
            })
            .await?
            .into_inner();
        for event in &page.events {
            println!(
                "{}  {:<22} sla {:<9} by {:<16} {}",
                time(event.occur_time.as_ref()),
                short_name::<pb::TicketEventKind>(event.kind),
                short_name::<pb::SlaState>(event.sla_state),
                event.actor,
                event.note
            );
        }
        Ok(page.next_page_token)
    })
    .await
}

/// Prints the first page, or with `all` every page.
async fn list(
    client: &mut TicketServiceClient<AuthedChannel>,
    request: pb::ListTicketsRequest,
    all: bool,
) -> anyhow::Result<()> {
    each_page(async |page_token| {
        let request = pb::ListTicketsRequest {
            page_token,
            ..request.clone()
        };
        let page = client.list_tickets(request).await?.into_inner();
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
        if !all && !page.next_page_token.is_empty() {
            println!("(more: repeat with --all)");
            return Ok(String::new());
        }
        Ok(page.next_page_token)
    })
    .await
}
