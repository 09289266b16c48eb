//! HTTP/1.1 on hyper: accepts connections, reads requests (3 MiB body limit), dispatches
//! by route, writes JSON (or streams watch events), logs a line per request when asked,
//! and stops cleanly.

use super::handlers::{self, Method, Reply, Request};
use super::route::{self, Route};
use super::status::ApiError;
use super::{Shared, discovery};
use bytes::Bytes;
use http_body_util::BodyExt as _;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The real server's request body limit.
const MAX_BODY: usize = 3 * 1024 * 1024;

/// A response body: whole, or a stream of chunks (watch events, flushed one by one).
pub enum Body {
    /// The whole body.
    Full(Option<Bytes>),
    /// Chunks until the sender closes.
    Stream(mpsc::Receiver<Bytes>),
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(Some(b)) => SizeHint::with_exact(b.len() as u64),
            Body::Full(None) => SizeHint::with_exact(0),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

fn respond(reply: Reply) -> hyper::Response<Body> {
    let mut builder = hyper::Response::builder().header("Cache-Control", "no-cache, private");
    let (code, body) = match reply {
        Reply::Json(code, body, warnings) => {
            builder = builder.header("Content-Type", "application/json");
            for w in warnings {
                // RFC 7234 quoted text: backslash-escaped, as the real server writes it.
                let quoted = w.replace('\\', "\\\\").replace('"', "\\\"");
                builder = builder.header("Warning", format!("299 - \"{quoted}\""));
            }
            (code, Body::Full(Some(body)))
        }
        Reply::Typed(code, body, media) => {
            builder = builder
                .header("Content-Type", media)
                .header("Vary", "Accept");
            (code, Body::Full(Some(body)))
        }
        Reply::Stream(rx) => {
            builder = builder
                .header("Content-Type", "application/json")
                .header("Transfer-Encoding", "chunked");
            (200, Body::Stream(rx))
        }
        Reply::Text(code, text) => {
            builder = builder.header("Content-Type", "text/plain; charset=utf-8");
            (code, Body::Full(Some(Bytes::from(text))))
        }
    };
    builder
        .status(code)
        .body(body)
        .unwrap_or_else(|_| hyper::Response::new(Body::Full(None)))
}

fn method(m: &hyper::Method) -> Method {
    match *m {
        hyper::Method::GET => Method::Get,
        hyper::Method::POST => Method::Post,
        hyper::Method::PUT => Method::Put,
        hyper::Method::PATCH => Method::Patch,
        hyper::Method::DELETE => Method::Delete,
        _ => Method::Other,
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Body>, Infallible> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let host = header("host");
    let request = Request {
        method: method(&parts.method),
        query: route::query(parts.uri.query()),
        accept: header("accept"),
        content_type: header("content-type"),
        body: Bytes::new(),
        user_agent: header("user-agent"),
    };
    let reply = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => {
            let request = Request {
                body: collected.to_bytes(),
                ..request
            };
            dispatch(&shared, parts.uri.path(), request, &host).await
        }
        Err(_) => Reply::from(
            ApiError::bad_request("the request body is larger than 3 MiB")
                .with_code(413, "RequestEntityTooLarge"),
        ),
    };
    let response = respond(reply);
    if shared.log_requests {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "{} {} {} {:.1}ms",
            parts.method,
            parts.uri,
            response.status().as_u16(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(response)
}

/// Answers one request.
pub async fn dispatch(shared: &Arc<Shared>, path: &str, req: Request, host: &str) -> Reply {
    let get_only = |reply: Reply| {
        if req.method == Method::Get {
            reply
        } else {
            ApiError::method_not_allowed("only GET is allowed here").into()
        }
    };
    if media_is_cbor(&req.content_type) {
        return ApiError::unsupported_media_type(&req.content_type).into();
    }
    match route::parse(path) {
        Route::Version => get_only(discovery::version(&shared.kube_version)),
        Route::Health => get_only(Reply::Text(200, "ok".into())),
        Route::Api => get_only(discovery::api(&shared.registry(), &req.accept, host)),
        Route::Apis => get_only(discovery::apis(&shared.registry(), &req.accept)),
        Route::Group(g) => get_only(discovery::group(&shared.registry(), &g)),
        Route::GroupVersion(g, v) => get_only(discovery::group_version(&shared.registry(), &g, &v)),
        Route::OpenApiIndex => get_only(discovery::openapi_index(
            &shared.registry(),
            &shared.openapi,
            &shared.kube_version,
        )),
        Route::OpenApiDoc(p) => get_only(discovery::openapi_document(
            &shared.registry(),
            &shared.openapi,
            &shared.kube_version,
            &p,
        )),
        Route::Resource(p) => handlers::resource(shared.clone(), req, p).await,
        Route::Unknown => ApiError::no_route().into(),
    }
}

fn media_is_cbor(content_type: &str) -> bool {
    content_type.contains("cbor")
}

/// Serves connections until `stopping` flips, then closes them (watches end at once).
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stopping.changed() => break,
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                let mut stop = stopping.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| handle(shared.clone(), req));
                    let conn = http1::Builder::new()
                        .keep_alive(true)
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
                        }
                    }
                });
            }
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(Duration::from_secs(3), async {
        while conns.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        conns.abort_all();
    }
}
