//! A raw HTTP/2 connection, for requests no generated client sends.

use std::net::SocketAddr;

use tonic::Status;

use crate::helpers::TestApp;

/// What a raw HTTP/2 call got back: the HTTP status, and the gRPC status
/// from the headers (trailers-only) or the trailers.
#[derive(Debug)]
pub struct RawAnswer {
    pub http: u16,
    pub status: Option<Status>,
}

/// One HTTP/2 connection to the server, for requests no generated client
/// sends (two messages in a unary call, a JSON content type, broken frames).
pub struct RawConnection {
    sender: hyper::client::conn::http2::SendRequest<tonic::body::Body>,
    addr: SocketAddr,
}

impl RawConnection {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        Self::over(stream, addr).await
    }

    pub async fn over(stream: tokio::net::TcpStream, addr: SocketAddr) -> Self {
        let (sender, connection) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .expect("HTTP/2 handshake");
        tokio::spawn(connection);
        Self { sender, addr }
    }

    /// POSTs `body` as is to `path`, with `headers` besides the path.
    pub async fn post(&mut self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> RawAnswer {
        use http_body_util::BodyExt;
        let mut request = tonic::codegen::http::Request::builder()
            .method("POST")
            .uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(tonic::body::Body::new(http_body_util::Full::new(
                hyper::body::Bytes::from(body),
            )))
            .unwrap();
        self.sender.ready().await.expect("connection ready");
        let response = self.sender.send_request(request).await.expect("answered");
        let http = response.status().as_u16();
        let headers = response.headers().clone();
        let trailers = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .trailers()
            .cloned();
        let status = Status::from_header_map(&headers)
            .or_else(|| trailers.as_ref().and_then(Status::from_header_map));
        RawAnswer { http, status }
    }

    /// A gRPC call with the administrator's token: `frames` as the body.
    pub async fn grpc(&mut self, app: &TestApp, path: &str, frames: Vec<u8>) -> RawAnswer {
        let authorization = app.authorization();
        self.post(
            path,
            &[
                ("content-type", "application/grpc"),
                ("te", "trailers"),
                ("authorization", &authorization),
            ],
            frames,
        )
        .await
    }
}

/// `message` framed as gRPC sends it: an uncompressed flag, the length, the
/// bytes.
pub fn frame(message: &[u8]) -> Vec<u8> {
    let mut out = vec![0];
    out.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
    out.extend_from_slice(message);
    out
}
