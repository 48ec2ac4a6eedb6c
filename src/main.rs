//! `ticketd`: the support-ticket gRPC server, and its server-side admin
//! commands (credentials are issued here, on the database, never over an
//! open RPC).

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ticketd::app::{Application, shutdown_signal};
use ticketd::clock::SystemClock;
use ticketd::config::{Config, DEFAULT_DATABASE};
use ticketd::domain::Clock;
use ticketd::domain::access::{Credential, Role};
use ticketd::domain::policy::Channel;
use ticketd::store::{self, CredentialStore, PoolConfig};

#[derive(Parser)]
#[command(name = "ticketd", version, about = "Support-ticket gRPC server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve gRPC until SIGINT/SIGTERM.
    Serve(Box<Config>),
    /// Administer the server's database directly (run where the server runs).
    Admin(AdminArgs),
}

#[derive(Args)]
struct AdminArgs {
    /// The database the server uses (same flag and variable as `serve`).
    #[arg(
        long = "database",
        visible_alias = "database-url",
        env = "DATABASE_URL",
        default_value = DEFAULT_DATABASE,
        hide_env_values = true,
        global = true
    )]
    database_url: String,

    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Credentials of the systems that call ticketd.
    #[command(subcommand)]
    Credentials(CredentialCommand),
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Issues a credential and prints its token on stdout, this once.
    Issue {
        /// The calling system, e.g. `chat-platform`; unique among live credentials.
        #[arg(long)]
        name: String,
        /// intake (chat platform, IVR, web form), dashboard, agent or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Channels an intake credential may create tickets on: chat, phone, web.
        #[arg(long, value_delimiter = ',', value_parser = parse_channel)]
        channels: Vec<Channel>,
    },
    /// Lists every credential with its last use; never shows secrets.
    List,
    /// Revokes a credential by id or name; calls with it fail within the
    /// server's --auth-cache-ms.
    Revoke {
        /// The credential's id or name.
        credential: String,
    },
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| "expected intake, dashboard, agent or admin".to_owned())
}

fn parse_channel(text: &str) -> Result<Channel, String> {
    match text {
        "chat" => Ok(Channel::Chat),
        "phone" => Ok(Channel::Phone),
        "web" | "web_form" | "web-form" => Ok(Channel::WebForm),
        _ => Err("expected chat, phone or web".to_owned()),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            let mut runtime = tokio::runtime::Builder::new_multi_thread();
            if let Some(threads) = config.worker_threads {
                runtime.worker_threads(threads.into());
            }
            runtime.enable_all().build()?.block_on(serve(*config))
        }
        Command::Admin(admin) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(admin_command(admin)),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    ticketd::telemetry::init(config.log_format);
    // `config` shows the flags as given; these are what unset ones became.
    tracing::info!(
        ?config,
        db_pool_size = config.pool_size(),
        max_in_flight_per_credential = config.max_in_flight_per_credential(),
        watch_read_concurrency = config.watch_read_concurrency(),
        "starting"
    );
    let app = Application::build(config, Arc::new(SystemClock)).await?;
    app.run_until_stopped(shutdown_signal()).await
}

async fn admin_command(admin: AdminArgs) -> anyhow::Result<()> {
    let store = store::open_for_admin(
        &admin.database_url,
        &PoolConfig {
            max_connections: 1,
            acquire_timeout: Duration::from_secs(10),
            batch: Default::default(),
        },
    )
    .await?;
    match admin.command {
        AdminCommand::Credentials(command) => credentials(&*store, command).await,
    }
}

async fn credentials(
    store: &dyn CredentialStore,
    command: CredentialCommand,
) -> anyhow::Result<()> {
    let now = SystemClock.now();
    match command {
        CredentialCommand::Issue {
            name,
            role,
            channels,
        } => {
            let issued = ticketd::auth::issue(store, &name, role, &channels, now)
                .await
                .map_err(describe)?;
            eprintln!(
                "issued credential {} to {} ({}); the token below is shown only now:",
                issued.credential.id,
                issued.credential.name,
                grants(&issued.credential)
            );
            println!("{}", issued.token);
        }
        CredentialCommand::List => {
            let credentials = store.list_credentials().await.map_err(describe)?;
            println!(
                "{:<16}  {:<20}  {:<24}  {:<20}  {:<20}  REVOKED",
                "ID", "NAME", "ROLE", "CREATED", "LAST USED"
            );
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map_or("-".to_owned(), |t| {
                    t.format("%Y-%m-%d %H:%M:%S").to_string()
                })
            };
            for c in credentials {
                println!(
                    "{:<16}  {:<20}  {:<24}  {:<20}  {:<20}  {}",
                    c.id,
                    c.name,
                    grants(&c),
                    time(Some(c.create_time)),
                    time(c.last_use_time),
                    time(c.revoke_time)
                );
            }
        }
        CredentialCommand::Revoke { credential } => {
            let revoked = store
                .revoke_credential(&credential, now)
                .await
                .map_err(describe)?;
            eprintln!("revoked credential {} ({})", revoked.id, revoked.name);
        }
    }
    Ok(())
}

fn grants(credential: &Credential) -> String {
    if credential.channels.is_empty() {
        return credential.role.to_string();
    }
    let channels: Vec<_> = credential.channels.iter().map(|c| c.as_str()).collect();
    format!("{}: {}", credential.role, channels.join(","))
}

/// Field errors read better on a terminal than the error's Debug form.
fn describe(err: ticketd::error::Error) -> anyhow::Error {
    match err {
        ticketd::error::Error::InvalidArgument(violations) => anyhow::anyhow!(
            "{}",
            violations
                .iter()
                .map(|v| format!("--{}: {}", v.field, v.description))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => anyhow::anyhow!("{other}"),
    }
}
