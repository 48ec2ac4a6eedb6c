//! `ticketctl`: the operator CLI, a client of ticketd's gRPC API built on the
//! generated Rust client.
//!
//! One module per command group (`accounts`, `tickets`, `policy`, `sla`);
//! `values` turns the proto enums into command-line values and `output`
//! prints what the server answers.

mod accounts;
mod output;
mod policy;
mod policy_diff;
mod sla;
mod tickets;
mod values;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ticketd_client::client::{Bearer, policy_client, ticket_client};
use ticketd_client::convert::timestamp;
use tonic::transport::Channel;

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
    Account(accounts::AccountCommand),
    /// Support tickets.
    #[command(subcommand)]
    Ticket(Box<tickets::TicketCommand>),
    /// The support policy in force, and policy documents.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// What is due, at risk or breached; compliance over a period.
    #[command(subcommand)]
    Sla(sla::SlaCommand),
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            match err.downcast_ref::<tonic::Status>() {
                Some(status) => output::print_status(status),
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
        Command::Account(command) => accounts::run(&mut tickets, command).await,
        Command::Ticket(command) => tickets::run(&mut tickets, *command).await,
        Command::Policy(command) => policy::run(&mut policy, command).await,
        Command::Sla(command) => sla::run(&mut tickets, command).await,
    }
}

/// Follows `next_page_token`s: `page` fetches and prints the page a token
/// names and returns the next token, empty after the last page.
async fn each_page(
    mut page: impl AsyncFnMut(String) -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let mut token = String::new();
    loop {
        token = page(token).await?;
        if token.is_empty() {
            return Ok(());
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
