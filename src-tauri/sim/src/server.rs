//! The HTTP server: routes, the layer that logs requests and applies injected
//! faults, and the accept loop.
//!
//! The accept loop is written out (rather than `axum::serve`) for one reason:
//! a `Drop` fault must close the connection without an answer, and only the
//! task that owns the connection can do that. With TLS, the same loop does
//! the handshake first; the connection is HTTP/1.1 either way.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Extension, Router};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::authorize;
use crate::devicelogin;
use crate::entra;
use crate::faults::FaultKind;
use crate::graph::{self, GraphRequest, GraphResponse};
use crate::log::{Arrival, LogDetail};
use crate::state::Shared;

/// Lets a request's handling close its own connection (the `Drop` fault).
#[derive(Clone, Debug)]
struct Hangup(Arc<Notify>);

/// When the request arrived, measured from the simulator's start.
#[derive(Clone, Copy, Debug)]
struct ArrivedAt(Duration);

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/devicecode", post(entra::devicecode))
        .route("/{tenant}/oauth2/v2.0/token", post(entra::token))
        .route(
            "/{tenant}/oauth2/v2.0/authorize",
            axum::routing::get(authorize::start).post(authorize::answer),
        )
        .route(
            "/devicelogin",
            axum::routing::get(devicelogin::show).post(devicelogin::submit),
        )
        .route("/v1.0/{*rest}", any(graph_entry))
        .merge(crate::control::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), observe))
        .with_state(shared)
}

async fn not_found(uri: Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        format!("The simulator has nothing at {}\n", uri.path()),
    )
        .into_response()
}

async fn graph_entry(
    State(shared): State<Arc<Shared>>,
    Extension(ArrivedAt(arrived)): Extension<ArrivedAt>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = GraphRequest {
        method: &method,
        path: uri.path().strip_prefix("/v1.0").unwrap_or(uri.path()),
        query: uri.query(),
        headers: &headers,
        body: &body,
    };
    let mut resp = {
        let mut st = shared.state();
        graph::handle(&shared, &mut st, &req, Instant::now(), arrived, false)
    };
    for (arrival, status, detail) in resp.inner.drain(..) {
        shared.record(arrival, status, detail, None);
    }
    into_response(resp)
}

fn into_response(resp: GraphResponse) -> Response {
    let content_type = resp.content_type();
    let body = match resp.body {
        graph::Body::Json(v) => Body::from(v.to_string()),
        graph::Body::Png(bytes) => Body::from(bytes),
        graph::Body::Empty => Body::empty(),
    };
    let mut out = Response::new(body);
    *out.status_mut() =
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = out.headers_mut();
    if let Some(ct) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    headers.insert(
        "request-id",
        HeaderValue::from_str(&request_id).expect("a uuid is a valid header"),
    );
    for (name, value) in resp.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.append(name, v);
        }
    }
    out.extensions_mut().insert(*resp.detail);
    out
}

/// Logs every request outside `/_sim`, and applies the injected fault that
/// matches it, if any.
async fn observe(State(shared): State<Arc<Shared>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if path == "/_sim" || path.starts_with("/_sim/") {
        return next.run(req).await;
    }
    let at = Instant::now().duration_since(shared.started);
    let arrival = Arrival {
        at,
        method: req.method().to_string(),
        path: path.clone(),
        query: req.uri().query().map(str::to_owned),
        retry_attempt: graph::retry_attempt(req.headers()),
        in_batch: false,
    };
    req.extensions_mut().insert(ArrivedAt(at));
    let fault = shared.state().faults.take(&path);
    let label = fault.as_ref().map(FaultKind::label);
    let mut response = match fault {
        None => next.run(req).await,
        Some(FaultKind::Slow { delay }) => {
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        Some(FaultKind::Status {
            status,
            retry_after,
        }) => fault_status(&shared, &path, status, retry_after.as_deref()),
        Some(FaultKind::Malformed) => malformed(&shared, &path),
        Some(FaultKind::Redirect { status, location }) => redirect(status, &location),
        Some(FaultKind::Answer(canned)) => canned_answer(canned),
        Some(FaultKind::Drop) => {
            shared.record(arrival, 0, LogDetail::default(), label);
            if let Some(Hangup(hangup)) = req.extensions().get::<Hangup>().cloned() {
                hangup.notify_one();
                // The connection task drops this future with the connection.
                std::future::pending::<()>().await;
            }
            // Only reachable when served without our accept loop.
            return StatusCode::BAD_GATEWAY.into_response();
        }
    };
    let detail = response
        .extensions_mut()
        .remove::<LogDetail>()
        .unwrap_or_default();
    shared.record(arrival, response.status().as_u16(), detail, label);
    response
}

/// The answer a failing service would give: Graph's error shape on Graph
/// paths, Entra ID's elsewhere.
fn fault_status(shared: &Shared, path: &str, status: u16, retry_after: Option<&str>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if path.starts_with("/v1.0/") {
        let graph_code = match status {
            400 => "BadRequest",
            401 => "InvalidAuthenticationToken",
            403 => "Authorization_RequestDenied",
            404 => "Request_ResourceNotFound",
            429 => "TooManyRequests",
            500 => "InternalServerError",
            502 => "BadGateway",
            503 => "ServiceUnavailable",
            504 => "GatewayTimeout",
            _ => "UnknownError",
        };
        let reason = code.canonical_reason().unwrap_or("Error");
        into_response(graph::error(
            status,
            graph_code,
            format!("{reason} (injected by the simulator)."),
        ))
    } else {
        let error = match status {
            400..=499 => "invalid_request",
            _ => "temporarily_unavailable",
        };
        let e = crate::auth::EntraError::new(
            error,
            50_000 + u32::from(status % 1000),
            "The service is temporarily unavailable (injected by the simulator).",
        );
        let mut r = entra::error_response(shared, &e);
        *r.status_mut() = code;
        r
    };
    *response.status_mut() = code;
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// A fixture, sent as it is. Headers that cannot be sent were refused when
/// it was made; a `Content-Length` is the server's own to write.
fn canned_answer(canned: crate::faults::Canned) -> Response {
    let mut response = Response::new(Body::from(canned.body));
    *response.status_mut() =
        StatusCode::from_u16(canned.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in &canned.headers {
        if name.eq_ignore_ascii_case("content-length") {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// An answer that sends the client elsewhere, as a captive portal or a
/// misconfigured proxy does; with no body, as such answers often have.
fn redirect(status: u16, location: &str) -> Response {
    let Ok(location) = HeaderValue::from_str(location) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "The injected redirect's location is not a valid header value.\n",
        )
            .into_response();
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
    response.headers_mut().insert(header::LOCATION, location);
    response
}

/// A 200 whose JSON breaks off in the middle, as a cut connection or a broken
/// proxy would deliver it.
fn malformed(shared: &Shared, path: &str) -> Response {
    let whole = if path.starts_with("/v1.0/") {
        json!({
            "@odata.context": format!("{}/v1.0/$metadata#Collection(microsoft.graph.presence)", shared.base_url),
            "value": [{"@odata.type": "#microsoft.graph.presence", "id": "00000000-0000-0000-0000-000000000000", "availability": "Available"}],
        })
    } else {
        json!({"token_type": "Bearer", "scope": "User.Read", "expires_in": 3600, "access_token": "x"})
    }
    .to_string();
    let cut = &whole[..whole.len() * 2 / 3];
    let mut response = Response::new(Body::from(cut.to_owned()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(graph::JSON_CONTENT_TYPE),
    );
    response
}

/// Accepts connections until the task is aborted; aborting it drops every
/// open connection with it. With `tls`, each connection shakes hands first.
pub(crate) async fn run(listener: TcpListener, router: Router, tls: Option<TlsAcceptor>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => match tls.clone() {
                    None => {
                        connections.spawn(serve_connection(stream, router.clone()));
                    }
                    Some(acceptor) => {
                        let router = router.clone();
                        // In the connection's own task, so that a slow
                        // handshake holds up no one else.
                        connections.spawn(async move {
                            match acceptor.accept(stream).await {
                                Ok(stream) => serve_connection(stream, router).await,
                                Err(e) => tracing::debug!("simulator TLS handshake failed: {e}"),
                            }
                        });
                    }
                },
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("simulator failed to accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_connection<S>(stream: S, router: Router)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let hangup = Arc::new(Notify::new());
    let for_requests = hangup.clone();
    let service =
        hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(Hangup(for_requests.clone()));
            router.clone().oneshot(req.map(Body::new))
        });
    let connection = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(e) = result {
                tracing::debug!("simulator connection ended: {e}");
            }
        }
        // Returning drops the connection, which closes the socket unanswered.
        () = hangup.notified() => {}
    }
}
