//! Client-side helpers for Rust callers (`ticketctl`, the benchmarks, ticketd's
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
