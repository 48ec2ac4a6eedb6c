//! The tower layer every call passes before any handler: load shedding,
//! authentication, the scope check and the per-credential rate limit, in
//! that order (shedding first, so an overloaded server spends nothing on a
//! call it will refuse). Refusals are ordinary gRPC statuses from the one
//! Error → Status mapping, so gRPC-Web callers get them too.

use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::codegen::http::{Request, Response};
use tower::{Layer, Service};

use super::access::{self, Requirement};
use crate::auth::Authenticator;
use crate::error::Error;

#[derive(Clone)]
pub struct GuardLayer {
    shared: Arc<Shared>,
}

struct Shared {
    auth: Arc<Authenticator>,
    in_flight: Arc<Semaphore>,
    reflection_open: bool,
}

impl GuardLayer {
    /// `max_in_flight` calls (excluding health checks) may be between
    /// arrival and response headers at once; more are refused at once with
    /// UNAVAILABLE rather than queued.
    pub fn new(auth: Arc<Authenticator>, max_in_flight: usize, reflection_open: bool) -> Self {
        Self {
            shared: Arc::new(Shared {
                auth,
                in_flight: Arc::new(Semaphore::new(max_in_flight.max(1))),
                reflection_open,
            }),
        }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Guard {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    shared: Arc<Shared>,
}

fn refuse<E>(err: Error) -> Result<Response<Body>, E> {
    Ok(tonic::Status::from(err).into_http())
}

impl<S> Service<Request<Body>> for Guard<S>
where
    S: Service<Request<Body>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone may not be ready; call the one that was polled.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let requirement = access::requirement(request.uri().path(), self.shared.reflection_open);
        if requirement == Requirement::Open {
            return Box::pin(inner.call(request));
        }
        let shared = self.shared.clone();
        Box::pin(async move {
            let Ok(_permit) = shared.in_flight.clone().try_acquire_owned() else {
                return refuse(Error::Overloaded);
            };
            let authorization: Vec<&[u8]> = request
                .headers()
                .get_all(tonic::codegen::http::header::AUTHORIZATION)
                .iter()
                .map(|v| v.as_bytes())
                .collect();
            let principal = match shared.auth.authenticate(&authorization).await {
                Ok(principal) => principal,
                Err(err) => return refuse(err),
            };
            tracing::Span::current().record("credential", principal.name.as_str());
            if let Requirement::Scope(scope) = requirement
                && let Err(denied) = principal.require(scope)
            {
                return refuse(Error::PermissionDenied(denied));
            }
            if let Err(err) = shared.auth.admit(&principal) {
                return refuse(err);
            }
            request.extensions_mut().insert(principal);
            // The permit is held until the response headers are ready; a
            // streaming body (WatchSlaStatus) is limited on its own.
            inner.call(request).await
        })
    }
}
