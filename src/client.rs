//! Client-side helpers for Rust callers (`ticketctl`, the benchmarks, the
//! tests): a channel that sends the caller's bearer token on every call.

use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

use crate::proto::pb::policy_service_client::PolicyServiceClient;
use crate::proto::pb::ticket_service_client::TicketServiceClient;

/// Adds `authorization: Bearer <token>` to each call (nothing when `None`).
#[derive(Clone, Default)]
pub struct Bearer(Option<AsciiMetadataValue>);

impl Bearer {
    pub fn new(token: &str) -> anyhow::Result<Self> {
        let value: AsciiMetadataValue = MetadataValue::try_from(format!("Bearer {}", token.trim()))
            .map_err(|_| anyhow::anyhow!("the token holds characters metadata cannot carry"))?;
        Ok(Self(Some(value)))
    }

    /// Sends no credentials (health checks, or to see the refusal).
    pub fn none() -> Self {
        Self(None)
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type AuthedChannel = InterceptedService<Channel, Bearer>;

pub fn ticket_client(channel: Channel, bearer: Bearer) -> TicketServiceClient<AuthedChannel> {
    TicketServiceClient::with_interceptor(channel, bearer)
}

pub fn policy_client(channel: Channel, bearer: Bearer) -> PolicyServiceClient<AuthedChannel> {
    PolicyServiceClient::with_interceptor(channel, bearer)
}

/// Issues an administrator credential directly on `database`, as
/// `ticketd admin credentials issue` does, and returns its token; for tools
/// that start their own server on a fresh database (the benchmarks).
pub async fn issue_admin_token(database: &str, name: &str) -> anyhow::Result<String> {
    use crate::domain::Clock;
    let store = crate::store::open_for_admin(
        database,
        &crate::store::PoolConfig {
            max_connections: 1,
            acquire_timeout: std::time::Duration::from_secs(10),
            batch: Default::default(),
        },
    )
    .await?;
    let now = crate::clock::SystemClock.now();
    let issued = crate::auth::issue(&*store, name, crate::domain::access::Role::Admin, &[], now)
        .await
        .map_err(|err| anyhow::anyhow!("issuing a credential: {err}"))?;
    Ok(issued.token)
}
