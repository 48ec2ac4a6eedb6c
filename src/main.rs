//! `ticketd`: the support-ticket gRPC server, and its server-side admin
//! commands (credentials are issued here, on the database, never over an
//! open RPC; policy versions are activated here too).

use std::path::PathBuf;

use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ticketd::app::{Application, shutdown_signal};
use ticketd::clock::SystemClock;
use ticketd::config::{Config, DEFAULT_DATABASE};
use ticketd::domain::Clock;
use ticketd::domain::access::{Credential, Role};
use ticketd::domain::intake::receipt_time;
use ticketd::domain::policy::{Channel, Policy, PolicyVersion};
use ticketd::store::{self, CredentialStore, PolicyStore, PoolConfig};

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
    /// The support policy's versions.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Checks a policy document and makes it the active version, which
    /// every server uses within its --policy-refresh-ms (1 s by default).
    /// A document with problems is refused, every problem listed by path
    /// and line, and nothing changes. To go back to an earlier version,
    /// activate its document again (`show --version N`): it becomes a new
    /// version.
    Activate {
        /// The policy document (TOML, as policy/published.toml).
        file: PathBuf,
        /// Who activates it, kept with the version.
        #[arg(long)]
        by: String,
        /// Why: the change note kept with the version.
        #[arg(long)]
        note: String,
    },
    /// Lists every version, oldest first; the last one is active.
    Versions,
    /// Prints a version's document on stdout: the active one, or N.
    Show {
        /// The version's number.
        #[arg(long = "version", value_name = "N")]
        number: Option<i64>,
    },
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
        AdminCommand::Policy(command) => policy(&*store, command).await,
    }
}

async fn policy(store: &dyn PolicyStore, command: PolicyCommand) -> anyhow::Result<()> {
    let now = receipt_time(SystemClock.now());
    match command {
        PolicyCommand::Activate { file, by, note } => {
            let document = std::fs::read_to_string(&file)
                .map_err(|err| anyhow::anyhow!("cannot read {}: {err}", file.display()))?;
            let policy = Policy::from_document(&document).map_err(|problems| {
                anyhow::anyhow!("{}: {problems}\nnothing was activated", file.display())
            })?;
            // Version 1 is the published policy on every database (tickets
            // received before any activation were decided under it), even
            // when no server has started on this one yet.
            ticketd::service::seed_policy(store, now)
                .await
                .map_err(describe)?;
            let active = store.active_policy_number().await.map_err(describe)?;
            let version = store
                .activate_policy(active, &document, policy.version(), &by, &note, now)
                .await
                .map_err(describe)?;
            eprintln!(
                "activated policy version {} ({}), replacing version {active}; servers use it \
                 within their --policy-refresh-ms",
                version.number, version.label
            );
            println!("{}", version.number);
        }
        PolicyCommand::Versions => {
            let mut versions: Vec<PolicyVersion> = Vec::new();
            loop {
                let page = store
                    .list_policy_versions(versions.last().map(|v| v.number), 100)
                    .await
                    .map_err(describe)?;
                if page.is_empty() {
                    break;
                }
                versions.extend(page);
            }
            println!(
                "{:<7}  {:<6}  {:<24}  {:<19}  {:<16}  NOTE",
                "VERSION", "ACTIVE", "LABEL", "ACTIVATED", "BY"
            );
            let active = versions.last().map(|v| v.number);
            for v in &versions {
                println!(
                    "{:<7}  {:<6}  {:<24}  {:<19}  {:<16}  {}",
                    v.number,
                    if Some(v.number) == active { "yes" } else { "" },
                    v.label,
                    v.activated_at.format("%Y-%m-%d %H:%M:%S"),
                    v.activated_by,
                    v.note
                );
            }
        }
        PolicyCommand::Show { number } => {
            let version = match number {
                Some(number) => store.get_policy_version(number).await,
                None => store.active_policy().await.and_then(|active| {
                    active.ok_or_else(|| ticketd::error::Error::NotFound {
                        resource: "policy version",
                        name: "the active one (no version yet: start the server once)".into(),
                    })
                }),
            }
            .map_err(describe)?;
            eprintln!(
                "policy version {} ({}), activated {} by {}: {}",
                version.number,
                version.label,
                version.activated_at.format("%Y-%m-%d %H:%M:%S"),
                version.activated_by,
                version.note
            );
            print!("{}", version.document);
        }
    }
    Ok(())
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
