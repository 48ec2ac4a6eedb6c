//! `ticketctl account …`: customer accounts and their plans.

use clap::Subcommand;
use ticketd_client::client::AuthedChannel;
use ticketd_client::proto::pb;
use ticketd_client::proto::pb::ticket_service_client::TicketServiceClient;

use crate::output::{plan_name, print_account};
use crate::values::every;
use crate::{account_name, each_page};

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create an account.
    Create {
        /// Account id: 3-63 lower-case letters, digits, hyphens.
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = every::<pb::Plan>())]
        plan: pb::Plan,
    },
    /// Show an account.
    Get { id: String },
    /// Change an account's name and/or plan.
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_parser = every::<pb::Plan>())]
        plan: Option<pb::Plan>,
    },
    /// List accounts.
    List {
        #[arg(long, default_value_t = 50)]
        page_size: i32,
    },
}

pub async fn run(
    client: &mut TicketServiceClient<AuthedChannel>,
    command: AccountCommand,
) -> anyhow::Result<()> {
    let account = match command {
        AccountCommand::Create { id, name, plan } => {
            client
                .create_account(pb::CreateAccountRequest {
                    account_id: id,
                    account: Some(pb::Account {
                        display_name: name,
                        plan: plan.into(),
                        ..Default::default()
                    }),
                })
                .await?
                .into_inner()
                .account
        }
        AccountCommand::Get { id } => {
            client
                .get_account(pb::GetAccountRequest {
                    name: account_name(&id),
                })
                .await?
                .into_inner()
                .account
        }
        AccountCommand::Update { id, name, plan } => {
            let mut paths = Vec::new();
            if name.is_some() {
                paths.push("display_name".to_owned());
            }
            if plan.is_some() {
                paths.push("plan".to_owned());
            }
            client
                .update_account(pb::UpdateAccountRequest {
                    account: Some(pb::Account {
                        name: account_name(&id),
                        display_name: name.unwrap_or_default(),
                        plan: plan.map_or(0, Into::into),
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask { paths }),
                })
                .await?
                .into_inner()
                .account
        }
        AccountCommand::List { page_size } => {
            return each_page(async |page_token| {
                let request = pb::ListAccountsRequest {
                    page_size,
                    page_token,
                };
                let page = client.list_accounts(request).await?.into_inner();
                for account in &page.accounts {
                    println!(
                        "{:<30} {:<16} {}",
                        account.name,
                        plan_name(account.plan),
                        account.display_name
                    );
                }
                Ok(page.next_page_token)
            })
            .await;
        }
    };
    print_account(&account.unwrap_or_default());
    Ok(())
}
