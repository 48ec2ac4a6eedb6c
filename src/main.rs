//! `ticketd`: the support-ticket gRPC server.

use std::sync::Arc;

use clap::{Parser, Subcommand};
use ticketd::app::{Application, shutdown_signal};
use ticketd::clock::SystemClock;
use ticketd::config::Config;

#[derive(Parser)]
#[command(name = "ticketd", version, about = "Support-ticket gRPC server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve gRPC until SIGINT/SIGTERM.
    Serve(Config),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            ticketd::telemetry::init(config.log_format);
            tracing::info!(?config, "starting");
            let app = Application::build(config, Arc::new(SystemClock)).await?;
            app.run_until_stopped(shutdown_signal()).await
        }
    }
}
