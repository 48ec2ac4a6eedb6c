//! The tower layer every call passes before any handler: the deadline, the
//! content type, load shedding, authentication, the scope check, the
//! per-credential share of the in-flight limit and rate limit, then the
//! request's framing. Shedding comes before authentication, so an overloaded
//! server spends nothing on a call it will refuse; framing comes after it,
//! so no one without a credential gets a body buffered. Refusals are ordinary
//! gRPC statuses from the one Error → Status mapping, so gRPC-Web callers get
//! them too.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use prost::Message;
use prost::bytes::BytesMut;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tonic::body::Body;
use tonic::codegen::BoxFuture;
use tonic::codegen::http::{HeaderMap, Request, Response, StatusCode, header};
use tower::{Layer, Service};

use super::access::{self, Requirement};
use crate::auth::Authenticator;
use crate::error::Error;

/// A gRPC message frame's prefix: a compressed flag and a 4-byte length.
const FRAME_PREFIX: usize = 5;

/// What the guard enforces, from the configuration.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Calls (other than health checks) between arrival and response headers
    /// at once; more are refused at once with UNAVAILABLE, not queued.
    pub max_in_flight: usize,
    /// The share of `max_in_flight` one credential may hold.
    pub max_in_flight_per_credential: usize,
    /// Longest a call may take to its response headers; a shorter
    /// `grpc-timeout` from the client wins.
    pub request_timeout: Duration,
    /// Largest request message read.
    pub max_message_bytes: usize,
    pub reflection_open: bool,
}

#[derive(Clone)]
pub struct GuardLayer {
    shared: Arc<Shared>,
}

struct Shared {
    auth: Arc<Authenticator>,
    in_flight: Arc<Semaphore>,
    by_credential: Mutex<HashMap<String, usize>>,
    limits: Limits,
}

impl GuardLayer {
    pub fn new(auth: Arc<Authenticator>, limits: Limits) -> Self {
        Self {
            shared: Arc::new(Shared {
                auth,
                in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
                by_credential: Mutex::new(HashMap::new()),
                limits,
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

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The clone may not be ready; call the one that was polled.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let server_timeout = self.shared.limits.request_timeout;
        let timeout = client_timeout(request.headers())
            .map_or(server_timeout, |client| client.min(server_timeout));
        // Set here, before tonic starts its own timer for the client's
        // `grpc-timeout` (once this returns), so this deadline is never the
        // later one: the caller gets DEADLINE_EXCEEDED with its reason, not
        // the CANCELLED tonic answers for its timer.
        let deadline = Instant::now() + timeout;
        Box::pin(Deadline {
            work: Box::pin(admit_and_call(self.shared.clone(), inner, request)),
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            deadline,
            timeout,
        })
    }
}

async fn admit_and_call<S>(
    shared: Arc<Shared>,
    mut inner: S,
    mut request: Request<Body>,
) -> Result<Response<Body>, S::Error>
where
    S: Service<Request<Body>, Response = Response<Body>>,
{
    if let Some(refusal) = content_type_refusal(request.headers()) {
        return Ok(refusal);
    }
    let path = request.uri().path().to_owned();
    let requirement = access::requirement(&path, shared.limits.reflection_open);
    // Both are held until the response headers are ready; a streaming body
    // (WatchSlaStatus) is limited on its own.
    let mut _permit: Option<OwnedSemaphorePermit> = None;
    let mut _share: Option<CredentialShare> = None;
    if requirement != Requirement::Open {
        let Ok(permit) = shared.in_flight.clone().try_acquire_owned() else {
            return refuse(Error::Overloaded);
        };
        _permit = Some(permit);
        let authorization: Vec<&[u8]> = request
            .headers()
            .get_all(header::AUTHORIZATION)
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
        let Some(share) = CredentialShare::take(&shared, &principal.credential_id) else {
            return refuse(Error::CredentialBusy {
                limit: shared.limits.max_in_flight_per_credential,
            });
        };
        _share = Some(share);
        if let Err(err) = shared.auth.admit(&principal) {
            return refuse(err);
        }
        request.extensions_mut().insert(principal);
    }
    if access::takes_one_message(&path) {
        request = match one_message(request, shared.limits.max_message_bytes, &path).await {
            Ok(request) => request,
            Err(err) => return refuse(err),
        };
    }
    inner.call(request).await
}

/// One credential's place in its share of the in-flight limit, given back
/// when dropped.
struct CredentialShare {
    shared: Arc<Shared>,
    credential_id: String,
}

impl CredentialShare {
    fn take(shared: &Arc<Shared>, credential_id: &str) -> Option<Self> {
        let mut counts = shared
            .by_credential
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(credential_id.to_owned()).or_insert(0);
        if *count >= shared.limits.max_in_flight_per_credential {
            return None;
        }
        *count += 1;
        Some(Self {
            shared: shared.clone(),
            credential_id: credential_id.to_owned(),
        })
    }
}

impl Drop for CredentialShare {
    fn drop(&mut self) {
        let mut counts = self
            .shared
            .by_credential
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&self.credential_id) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.credential_id);
            }
        }
    }
}

/// Ends a call with DEADLINE_EXCEEDED once its deadline passes, dropping
/// whatever it was waiting on. Work a handler handed to its own task (a
/// CreateTicket's write) may still complete; the outcome is unknown to the
/// caller, which is what the status says.
struct Deadline<F> {
    work: F,
    sleep: Pin<Box<Sleep>>,
    deadline: Instant,
    timeout: Duration,
}

impl<F, E> Future for Deadline<F>
where
    F: Future<Output = Result<Response<Body>, E>> + Unpin,
{
    type Output = Result<Response<Body>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // The deadline is looked at first, and by the clock as well as by
        // the timer: tonic's timer for the same deadline may have woken this
        // task before this one's timer was marked as fired.
        if self.sleep.as_mut().poll(cx).is_ready() || Instant::now() >= self.deadline {
            return Poll::Ready(refuse(Error::DeadlineExceeded {
                timeout: self.timeout,
            }));
        }
        Pin::new(&mut self.work).poll(cx)
    }
}

/// The client's `grpc-timeout`; `None` when absent or unreadable (tonic
/// ignores those too).
fn client_timeout(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    let digits = value.get(..value.len().checked_sub(1)?)?;
    // The spec allows at most 8 digits, which also rules out overflow.
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match value.as_bytes()[value.len() - 1] {
        b'H' => Duration::from_secs(amount * 3600),
        b'M' => Duration::from_secs(amount * 60),
        b'S' => Duration::from_secs(amount),
        b'm' => Duration::from_millis(amount),
        b'u' => Duration::from_micros(amount),
        b'n' => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// A refusal for anything but gRPC with protobuf messages (gRPC-Web arrives
/// here already translated to `application/grpc`). A content type that is
/// not gRPC at all gets HTTP 415, as the gRPC spec asks, so that no HTTP
/// client takes the answer for a success; a gRPC one with another message
/// format (`application/grpc+json`) gets the status alone.
fn content_type_refusal(headers: &HeaderMap) -> Option<Response<Body>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if matches!(
        essence.as_str(),
        "application/grpc" | "application/grpc+proto"
    ) {
        return None;
    }
    let grpc = essence.starts_with("application/grpc");
    let mut response = tonic::Status::from(Error::UnsupportedContentType {
        content_type: content_type.chars().take(64).collect(),
    })
    .into_http();
    if !grpc {
        *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    }
    Some(response)
}

/// Reads the body of a call that takes one request message, checks it is
/// exactly one well-formed message frame, and passes it on. tonic's own
/// decoding takes the first of several messages and drops the rest, and
/// answers broken framing with INTERNAL, as if the server were at fault.
async fn one_message(
    request: Request<Body>,
    limit: usize,
    path: &str,
) -> Result<Request<Body>, Error> {
    // With an encoding named, a compressed message is tonic's to accept or
    // refuse (no service here enables one, so it answers UNIMPLEMENTED).
    let encoded = request
        .headers()
        .get("grpc-encoding")
        .is_some_and(|v| v.as_bytes() != b"identity");
    let (parts, mut body) = request.into_parts();
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| Error::MalformedRequest("the request body could not be read"))?;
        if let Ok(data) = frame.into_data() {
            buffer.extend_from_slice(&data);
            // Refused as soon as the prefix says so, before the rest is read.
            frame_length(&buffer, limit, encoded)?;
        }
    }
    let Some(length) = frame_length(&buffer, limit, encoded)? else {
        return Err(Error::MalformedRequest(if buffer.is_empty() {
            "the request has no message"
        } else {
            "the request ends inside a message's length prefix"
        }));
    };
    if buffer.len() < FRAME_PREFIX + length {
        return Err(Error::MalformedRequest(
            "the request ends before its message does",
        ));
    }
    // The health service decodes with tonic's codec, which answers INTERNAL
    // for a message that does not decode; the fault is the caller's.
    if path.starts_with(access::HEALTH_PREFIX) && buffer[0] == 0 {
        tonic_health::pb::HealthCheckRequest::decode(&buffer[FRAME_PREFIX..])
            .map_err(|err| super::codec::request_decode_error(&err))?;
    }
    Ok(Request::from_parts(
        parts,
        Body::new(Full::new(buffer.freeze())),
    ))
}

/// The length of the message framed at the start of `buffer`, once its
/// prefix is there; an error when the frame cannot be the one message of a
/// well-formed request.
fn frame_length(buffer: &[u8], limit: usize, encoded: bool) -> Result<Option<usize>, Error> {
    let Some(prefix) = buffer.get(..FRAME_PREFIX) else {
        return Ok(None);
    };
    match prefix[0] {
        0 => {}
        1 if encoded => {}
        1 => {
            return Err(Error::MalformedRequest(
                "the message is marked compressed but no grpc-encoding was sent",
            ));
        }
        _ => {
            return Err(Error::MalformedRequest(
                "the message's compressed flag is neither 0 nor 1",
            ));
        }
    }
    let length = u32::from_be_bytes([prefix[1], prefix[2], prefix[3], prefix[4]]) as usize;
    if length > limit {
        return Err(Error::MessageTooLarge {
            size: length,
            limit,
        });
    }
    if buffer.len() > FRAME_PREFIX + length {
        return Err(Error::MalformedRequest(
            "the request holds more than one message; this method takes exactly one",
        ));
    }
    Ok(Some(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &'static str, value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, value.parse().unwrap());
        headers
    }

    #[test]
    fn client_timeouts_are_read_in_every_unit_and_nonsense_is_ignored() {
        let read = |v| client_timeout(&headers("grpc-timeout", v));
        assert_eq!(read("1n"), Some(Duration::from_nanos(1)));
        assert_eq!(read("250m"), Some(Duration::from_millis(250)));
        assert_eq!(read("3S"), Some(Duration::from_secs(3)));
        assert_eq!(read("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(read("123456789S"), None, "more than 8 digits");
        assert_eq!(read("m"), None);
        assert_eq!(read("10x"), None);
        assert_eq!(client_timeout(&HeaderMap::new()), None);
    }

    #[test]
    fn only_grpc_with_protobuf_gets_through_and_only_non_grpc_gets_415() {
        let refusal = |v| content_type_refusal(&headers("content-type", v)).map(|r| r.status());
        assert_eq!(refusal("application/grpc"), None);
        assert_eq!(refusal("application/grpc+proto"), None);
        assert_eq!(refusal("application/grpc; charset=utf-8"), None);
        assert_eq!(refusal("application/grpc+json"), Some(StatusCode::OK));
        assert_eq!(
            refusal("application/json"),
            Some(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
        assert_eq!(
            content_type_refusal(&HeaderMap::new()).map(|r| r.status()),
            Some(StatusCode::UNSUPPORTED_MEDIA_TYPE)
        );
    }

    #[test]
    fn a_frame_is_one_whole_message_within_the_limit() {
        let frame = |flag: u8, length: u32, payload: &[u8]| {
            let mut out = vec![flag];
            out.extend_from_slice(&length.to_be_bytes());
            out.extend_from_slice(payload);
            out
        };
        assert_eq!(frame_length(&[0, 0], 10, false).unwrap(), None);
        assert_eq!(
            frame_length(&frame(0, 2, b"ab"), 10, false).unwrap(),
            Some(2)
        );
        assert_eq!(
            frame_length(&frame(1, 2, b"ab"), 10, true).unwrap(),
            Some(2)
        );
        assert!(matches!(
            frame_length(&frame(1, 2, b"ab"), 10, false),
            Err(Error::MalformedRequest(_))
        ));
        assert!(matches!(
            frame_length(&frame(7, 2, b"ab"), 10, false),
            Err(Error::MalformedRequest(_))
        ));
        assert!(matches!(
            frame_length(&frame(0, 11, b""), 10, false),
            Err(Error::MessageTooLarge {
                size: 11,
                limit: 10
            })
        ));
        assert!(matches!(
            frame_length(&[frame(0, 1, b"a"), frame(0, 0, b"")].concat(), 10, false),
            Err(Error::MalformedRequest(_))
        ));
    }
}
