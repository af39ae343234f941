//! Requests to Microsoft Graph: bearer tokens, retries, throttling, errors.
//!
//! Every request of one [`GraphClient`] (and of its clones) goes through one
//! throttle gate: once Graph has answered with `Retry-After`, no request at all
//! leaves before that time has passed, because any request sent earlier counts
//! against the tenant's budget again and prolongs the throttling for everyone.
//!
//! Retries follow Microsoft's SDK retry handler: 429, 503 and 504 are retried
//! (3 times by default), each retry carries `Retry-Attempt: n`, and waits for
//! `Retry-After` (seconds or an HTTP date) or else 3 s * 2^n, at most 180 s.
//! The one exception is the presence poller's request
//! ([`GraphClient::poll_presences_by_user_id`]), which gets a 429 back at once:
//! its next poll is the retry.
//! A 401 is answered by asking the token source for a fresh token once.
//!
//! No error and no log line ever contains a token: reqwest's errors carry no
//! headers, and the token is only read at the moment the header is set.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tokio::sync::watch;
use tokio::time::Instant;
use url::Url;

use crate::auth::AccessTokens;
use crate::config::Settings;
use crate::error::{Error, Result};
pub use crate::http::parse_retry_after;
use crate::http::{Object, MAX_RETRY_AFTER};
use crate::presence::{self, Presence, MAX_IDS_PER_REQUEST};

/// Path of the batched presence request, below `/v1.0`.
pub const PRESENCES_PATH: &str = "communications/getPresencesByUserId";

/// Most requests Graph accepts inside one `$batch`.
pub const MAX_BATCH_REQUESTS: usize = 20;

/// The most Presently reads of an answer: a presence answer for 650 people
/// is well under 1 MiB; a `$batch` of 20 photos (base64) can reach a few
/// MiB; an error is a sentence. Past these the answer is not one.
pub const MAX_PRESENCE_ANSWER: usize = 4 * 1024 * 1024;
pub const MAX_ANSWER: usize = 32 * 1024 * 1024;
pub const MAX_ERROR_ANSWER: usize = 64 * 1024;

/// Timeouts and the retry policy. The defaults are Microsoft's SDK defaults;
/// tests shorten them.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphOptions {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, answer included.
    pub request_timeout: Duration,
    /// Retries of a 429, 503 or 504 before giving up (the SDK allows 10 at most).
    pub max_retries: u32,
    /// Without `Retry-After`, retry `n` waits `retry_delay * 2^n`...
    pub retry_delay: Duration,
    /// ...but never longer than this.
    pub max_retry_delay: Duration,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_retries: 3,
            retry_delay: Duration::from_secs(3),
            max_retry_delay: Duration::from_secs(180),
        }
    }
}

/// A client for Microsoft Graph. Cheap to clone; clones share the connection
/// pool, the token source and the throttle gate.
#[derive(Clone)]
pub struct GraphClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    tokens: Arc<dyn AccessTokens>,
    settings: Settings,
    options: GraphOptions,
    /// The time before which nothing may be sent. A watch channel rather than
    /// a mutex so that the engine can also be told the moment it moves.
    gate: watch::Sender<Option<Instant>>,
    throttled: AtomicU64,
}

impl std::fmt::Debug for GraphClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphClient")
            .field("graph_url", &self.inner.settings.graph_url.as_str())
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl GraphClient {
    /// A client for the Graph of `settings`, with the SDK's default policy.
    pub fn new(settings: &Settings, tokens: Arc<dyn AccessTokens>) -> Result<GraphClient> {
        GraphClient::with_options(settings, tokens, GraphOptions::default())
    }

    pub fn with_options(
        settings: &Settings,
        tokens: Arc<dyn AccessTokens>,
        options: GraphOptions,
    ) -> Result<GraphClient> {
        if tokens
            .issued_for()
            .is_some_and(|graph| graph.origin() != settings.graph_url.origin())
        {
            return Err(Error::SignInNeeded(format!(
                "The sign-in was made for another Graph than {}: nothing was sent. Run `presently login` to sign in to this one.",
                settings.graph_url
            )));
        }
        let http = crate::http::client(
            &settings.graph_url,
            options.connect_timeout,
            options.request_timeout,
        )?;
        let (gate, _) = watch::channel(None);
        Ok(GraphClient {
            inner: Arc::new(Inner {
                http,
                tokens,
                settings: settings.clone(),
                options,
                gate,
                throttled: AtomicU64::new(0),
            }),
        })
    }

    /// A client for the same Graph, sign-in and policy, with a throttle gate
    /// of its own: for a reader whose budget is another one (Outlook's
    /// calendar limits are per mailbox), so that its 429s never hold back
    /// the presence poller. It shares the connection pool.
    pub fn with_own_throttle(&self) -> GraphClient {
        let inner = &self.inner;
        let (gate, _) = watch::channel(None);
        GraphClient {
            inner: Arc::new(Inner {
                http: inner.http.clone(),
                tokens: inner.tokens.clone(),
                settings: inner.settings.clone(),
                options: inner.options.clone(),
                gate,
                throttled: AtomicU64::new(0),
            }),
        }
    }

    /// `{graph}/v1.0/{path}`.
    pub fn endpoint(&self, path: &str) -> Url {
        self.inner.settings.graph_endpoint(path)
    }

    /// How long the throttle gate stays closed, if it is closed.
    pub fn throttled_for(&self) -> Option<Duration> {
        let until = (*self.inner.gate.borrow())?;
        let now = Instant::now();
        (until > now).then(|| until - now)
    }

    /// Tells the holder each time Graph pushes the throttle gate further out.
    pub fn throttle_changes(&self) -> watch::Receiver<Option<Instant>> {
        self.inner.gate.subscribe()
    }

    /// How many 429 answers this client (and its clones) has received.
    pub fn throttle_count(&self) -> u64 {
        self.inner.throttled.load(Ordering::Relaxed)
    }

    /// The presence of up to 650 users (`getPresencesByUserId`). Users Graph
    /// does not know are simply absent from the answer.
    pub async fn presences_by_user_id(&self, ids: &[String]) -> Result<Vec<Presence>> {
        self.presences(ids, true).await
    }

    /// [`GraphClient::presences_by_user_id`] for a poller: a 429 is not
    /// retried but returned at once as [`Error::Throttled`] (after closing the
    /// gate for its `Retry-After`, as always). A poller asks again anyway, and
    /// under a budget shared by many installs, retries would only send more
    /// requests into a budget already spent (see `engine.rs`). 503 and 504
    /// are retried as usual.
    pub async fn poll_presences_by_user_id(&self, ids: &[String]) -> Result<Vec<Presence>> {
        self.presences(ids, false).await
    }

    async fn presences(&self, ids: &[String], retry_throttled: bool) -> Result<Vec<Presence>> {
        if ids.len() > MAX_IDS_PER_REQUEST {
            return Err(Error::Config(format!(
                "At most {MAX_IDS_PER_REQUEST} IDs fit in one presence request (got {}).",
                ids.len()
            )));
        }
        #[derive(Serialize)]
        struct Body<'a> {
            ids: &'a [String],
        }
        let body = serde_json::to_vec(&Body { ids }).expect("a list of strings serialises");
        let answer = self
            .send(Call {
                method: Method::POST,
                url: self.endpoint(PRESENCES_PATH),
                headers: &[],
                body: Some(body),
                presence: true,
                retry_throttled,
            })
            .await?;
        presence::parse_presences(&answer)
    }

    /// The signed-in user's own presence (`GET /me/presence`).
    pub async fn my_presence(&self) -> Result<Presence> {
        let answer = self
            .send(Call {
                method: Method::GET,
                url: self.endpoint("me/presence"),
                headers: &[],
                body: None,
                presence: true,
                retry_throttled: true,
            })
            .await?;
        presence::parse_presence(&answer)
    }

    /// `GET {graph}/v1.0/{path}` read as `T`.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.get_json_with_headers(path, &[]).await
    }

    /// Like [`GraphClient::get_json`], with extra headers (for example
    /// `ConsistencyLevel: eventual`, which `$search` needs).
    pub async fn get_json_with_headers<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<T> {
        self.get_url(self.endpoint(path), headers).await
    }

    /// Every item of a collection, following `@odata.nextLink`, stopping once
    /// `limit` items are in hand.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        limit: usize,
    ) -> Result<Vec<T>> {
        #[derive(Deserialize)]
        struct Page<T> {
            value: Vec<Object<T>>,
            #[serde(rename = "@odata.nextLink")]
            next_link: Option<String>,
        }
        let mut items = Vec::new();
        let mut url = self.endpoint(path);
        loop {
            let page: Page<T> = self.get_url(url, headers).await?;
            items.extend(page.value.into_iter().map(|Object(item)| item));
            if items.len() >= limit {
                items.truncate(limit);
                return Ok(items);
            }
            match page.next_link {
                Some(next) => url = self.same_origin(&next)?,
                None => return Ok(items),
            }
        }
    }

    /// `POST {graph}/v1.0/{path}` with a JSON body, the answer read as `T`.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        read_json(&self.post(path, body).await?)
    }

    /// `POST {graph}/v1.0/{path}` with a JSON body, for actions that answer
    /// with no content (`setUserPreferredPresence` and the like).
    pub async fn post_action<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<()> {
        self.post(path, body).await.map(drop)
    }

    /// `POST {graph}/v1.0/{path}` with a JSON body and extra headers (for
    /// example `Prefer: outlook.timezone="UTC"`), for a reader that asks
    /// again on its own schedule: as for the presence poller, a 429 is
    /// returned at once as [`Error::Throttled`] after closing the gate for
    /// its `Retry-After`. The answer's bytes, at most [`MAX_ANSWER`].
    pub async fn poll_post<B: Serialize + ?Sized>(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &B,
    ) -> Result<Vec<u8>> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::Config(format!("Could not write the request: {e}")))?;
        self.send(Call {
            method: Method::POST,
            url: self.endpoint(path),
            headers,
            body: Some(body),
            presence: false,
            retry_throttled: false,
        })
        .await
    }

    /// `POST {graph}/v1.0/{path}` with a JSON body; the answer's bytes.
    async fn post<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<Vec<u8>> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::Config(format!("Could not write the request: {e}")))?;
        self.send(Call {
            method: Method::POST,
            url: self.endpoint(path),
            headers: &[],
            body: Some(body),
            presence: false,
            retry_throttled: true,
        })
        .await
    }

    /// Sends requests through `POST /$batch`, 20 to a batch, and returns one
    /// answer per request in the order given. A request inside a batch can fail
    /// on its own: look at each [`BatchResponse`].
    pub async fn batch(&self, requests: &[BatchRequest]) -> Result<Vec<BatchResponse>> {
        #[derive(Serialize)]
        struct Body<'a> {
            requests: &'a [BatchRequest],
        }
        let mut out = Vec::with_capacity(requests.len());
        for chunk in requests.chunks(MAX_BATCH_REQUESTS) {
            let answer = self.post("$batch", &Body { requests: chunk }).await?;
            let mut by_id: BTreeMap<String, BatchResponse> = parse_batch_answer(&answer)?
                .into_iter()
                .map(|r| (r.id.clone(), r))
                .collect();
            for r in &by_id {
                // A throttled request inside a batch closes the gate too:
                // the budget it counts against is the same.
                if r.1.status == 429 {
                    self.inner.throttled.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(wait) =
                    r.1.header("Retry-After")
                        .and_then(|v| parse_retry_after(v, SystemTime::now()))
                {
                    self.hold_gate(wait);
                }
            }
            for req in chunk {
                let r = by_id.remove(&req.id).ok_or_else(|| {
                    Error::Malformed(format!(
                        "the batch answer has no response for \"{}\"",
                        req.id
                    ))
                })?;
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn get_url<T: DeserializeOwned>(&self, url: Url, headers: &[(&str, &str)]) -> Result<T> {
        let answer = self
            .send(Call {
                method: Method::GET,
                url,
                headers,
                body: None,
                presence: false,
                retry_throttled: true,
            })
            .await?;
        read_json(&answer)
    }

    /// A next-page link is followed only if it stays on this Graph host: the
    /// token must never be sent anywhere else.
    fn same_origin(&self, link: &str) -> Result<Url> {
        let url = Url::parse(link)
            .map_err(|_| Error::Malformed("the next-page link is not a URL".into()))?;
        let base = &self.inner.settings.graph_url;
        if url.origin() != base.origin() {
            return Err(Error::Malformed(
                "the next-page link points away from Microsoft Graph".into(),
            ));
        }
        Ok(url)
    }

    fn hold_gate(&self, wait: Duration) {
        let until = Instant::now() + wait.min(MAX_RETRY_AFTER);
        self.inner.gate.send_if_modified(|held| match *held {
            Some(t) if t >= until => false,
            _ => {
                *held = Some(until);
                true
            }
        });
    }

    async fn wait_for_gate(&self) {
        // Loop: while one request sleeps, another answer may push the gate
        // further out.
        loop {
            let until = *self.inner.gate.borrow();
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Sends one call with the retry policy; the body of a 2xx answer.
    async fn send(&self, call: Call<'_>) -> Result<Vec<u8>> {
        let inner = &self.inner;
        let mut token = inner.tokens.access_token().await?;
        let mut refreshed = false;
        let mut attempt: u32 = 0;
        loop {
            self.wait_for_gate().await;
            let mut req = inner
                .http
                .request(call.method.clone(), call.url.clone())
                .bearer_auth(token.expose())
                .header(ACCEPT, "application/json");
            for (name, value) in call.headers {
                req = req.header(*name, *value);
            }
            if attempt > 0 {
                req = req.header("Retry-Attempt", attempt.to_string());
            }
            if let Some(body) = &call.body {
                req = req
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let answer = req
                .send()
                .await
                .map_err(|e| Error::network("Could not reach Microsoft Graph", e))?;
            let status = answer.status();
            tracing::debug!(method = %call.method, path = call.url.path(), %status, attempt, "graph");

            if status == StatusCode::UNAUTHORIZED {
                if refreshed {
                    return Err(Error::SignInNeeded(
                        "Microsoft Graph no longer accepts your sign-in. Run `presently login` to sign in again."
                            .into(),
                    ));
                }
                // A token can expire or be revoked between being handed out
                // and being used; one fresh one settles which it is.
                refreshed = true;
                token = inner.tokens.token_rejected().await?;
                continue;
            }

            if is_retryable(status) {
                let retry_after = answer
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                let throttled = status == StatusCode::TOO_MANY_REQUESTS;
                if throttled {
                    inner.throttled.fetch_add(1, Ordering::Relaxed);
                }
                if let Some(wait) = retry_after {
                    self.hold_gate(wait);
                }
                // Reading the body lets the connection be reused; its content
                // only matters if this was the last try.
                let body = crate::http::read_limited(answer, MAX_ERROR_ANSWER)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                if attempt >= inner.options.max_retries || (throttled && !call.retry_throttled) {
                    return Err(match status {
                        StatusCode::TOO_MANY_REQUESTS => Error::Throttled {
                            retry_after: self
                                .throttled_for()
                                .or(retry_after)
                                .unwrap_or_else(|| self.backoff(attempt + 1)),
                        },
                        _ => error_from_answer(status, &body, call.presence),
                    });
                }
                attempt += 1;
                if retry_after.is_none() {
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                // With Retry-After, the gate at the top of the loop waits.
                continue;
            }

            let limit = match (status.is_success(), call.presence) {
                (false, _) => MAX_ERROR_ANSWER,
                (true, true) => MAX_PRESENCE_ANSWER,
                (true, false) => MAX_ANSWER,
            };
            let body = crate::http::read_limited(answer, limit)
                .await
                .map_err(|e| Error::network("Microsoft Graph's answer was cut off", e))?
                .ok_or_else(|| {
                    Error::Malformed(format!(
                        "the answer to {} was larger than {} KiB, far more than it can be; it was not read",
                        call.url.path(),
                        limit / 1024
                    ))
                })?;
            if status.is_success() {
                return Ok(body);
            }
            return Err(error_from_answer(status, &body, call.presence));
        }
    }

    /// The SDK's delay before retry `n` when Graph gave no `Retry-After`.
    fn backoff(&self, n: u32) -> Duration {
        let o = &self.inner.options;
        o.retry_delay
            .saturating_mul(2u32.saturating_pow(n))
            .min(o.max_retry_delay)
    }
}

struct Call<'a> {
    method: Method,
    url: Url,
    headers: &'a [(&'a str, &'a str)],
    body: Option<Vec<u8>>,
    /// A presence endpoint: a 404 means this cloud has no presence.
    presence: bool,
    /// Retry a 429 (the SDK's policy); false returns it at once.
    retry_throttled: bool,
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice::<Object<T>>(body)
        .map(|Object(t)| t)
        .map_err(|e| Error::Malformed(format!("the answer is not in the promised shape ({e})")))
}

/// The responses of a `$batch` answer (`{"responses":[{...}, ...]}`), in the
/// order Graph wrote them.
pub fn parse_batch_answer(body: &[u8]) -> Result<Vec<BatchResponse>> {
    #[derive(Deserialize)]
    struct Answer {
        responses: Vec<Object<BatchResponse>>,
    }
    let Object(answer) = serde_json::from_slice::<Object<Answer>>(body).map_err(|e| {
        Error::Malformed(format!(
            "the batch answer is not in the promised shape ({e})"
        ))
    })?;
    Ok(answer.responses.into_iter().map(|Object(r)| r).collect())
}

/// One request inside a `$batch`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchRequest {
    /// Unique within the batch; the answer carries it back.
    pub id: String,
    pub method: String,
    /// Relative to the version, for example `/users/{id}?$select=displayName`.
    pub url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

impl BatchRequest {
    pub fn get(id: impl Into<String>, url: impl Into<String>) -> BatchRequest {
        BatchRequest {
            id: id.into(),
            method: "GET".into(),
            url: url.into(),
            headers: BTreeMap::new(),
            body: None,
        }
    }
}

/// One answer inside a `$batch` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BatchResponse {
    pub id: String,
    pub status: u16,
    /// Graph writes header names in any case (`location`, `Retry-After`):
    /// look them up with [`BatchResponse::header`].
    #[serde(default, deserialize_with = "batch_headers")]
    pub headers: BTreeMap<String, String>,
    /// `null` when the answer has none (a 204 or a 302).
    #[serde(default)]
    pub body: serde_json::Value,
}

/// A batch answer's headers: missing or `null` is none, and a value that is
/// not a string (a number) is read as its JSON text.
fn batch_headers<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map: Option<BTreeMap<String, Value>> = Option::deserialize(d)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, value)| match value {
            Value::String(s) => Some((name, s)),
            Value::Null => None,
            other => Some((name, other.to_string())),
        })
        .collect())
}

impl BatchResponse {
    /// A header of this answer, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body read as `T` when the status is 2xx, else the error it carries.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        if !(200..300).contains(&self.status) {
            return Err(parse_error_body(
                self.status,
                &serde_json::to_vec(&self.body).unwrap_or_default(),
            ));
        }
        Object::<T>::deserialize(&self.body)
            .map(|Object(t)| t)
            .map_err(|e| {
                Error::Malformed(format!("a batch answer is not in the promised shape ({e})"))
            })
    }
}

/// Graph's error envelope, `{"error":{"code","message","innerError"}}`, as
/// Presently reads it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GraphErrorBody {
    /// Graph's code; empty where Graph sent none or `""` (Planner does).
    pub code: String,
    /// The message, as text for a terminal, at most 300 characters.
    pub message: String,
    /// `innerError`'s `request-id` (or `requestId`, as some pages spell it)
    /// and `client-request-id`: what Microsoft's support asks for.
    pub request_id: Option<String>,
    pub client_request_id: Option<String>,
    /// `innerError`'s `date`, as Graph wrote it (often without a zone).
    pub date: Option<String>,
}

/// Graph's error envelope, if that is what the body holds and it has a
/// message.
pub fn read_error_body(body: &[u8]) -> Option<GraphErrorBody> {
    #[derive(Deserialize)]
    struct Envelope {
        error: Object<Detail>,
    }
    #[derive(Deserialize)]
    struct Detail {
        code: Option<Value>,
        message: Option<Value>,
        #[serde(rename = "innerError", alias = "innererror")]
        inner_error: Option<Object<Inner>>,
    }
    #[derive(Deserialize, Default)]
    struct Inner {
        #[serde(rename = "request-id", alias = "requestId")]
        request_id: Option<Value>,
        #[serde(rename = "client-request-id", alias = "clientRequestId")]
        client_request_id: Option<Value>,
        date: Option<Value>,
    }
    // Text only: Graph's words end up in terminals, windows and logs.
    let text = |v: Option<Value>, max: usize| match v {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            Some(crate::text::clean_text(&s, max)).filter(|s| !s.trim().is_empty())
        }
        _ => None,
    };
    let Object(Envelope { error: Object(e) }) = serde_json::from_slice(body).ok()?;
    // A message of nothing but control characters is no message.
    let message = text(e.message, 300)?;
    let Object(inner) = e.inner_error.unwrap_or(Object(Inner::default()));
    Some(GraphErrorBody {
        // The code is for programs, as Graph sent it; `""` is no code.
        code: match e.code {
            Some(Value::String(code)) => code,
            _ => String::new(),
        },
        message,
        request_id: text(inner.request_id, 100),
        client_request_id: text(inner.client_request_id, 100),
        date: text(inner.date, 100),
    })
}

/// Graph's code and message, if the body holds them.
fn graph_error_body(body: &[u8]) -> Option<(String, String)> {
    read_error_body(body).map(|e| (e.code, e.message))
}

fn reason(status: u16) -> String {
    StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("an error")
        .to_string()
}

/// A Graph error answer of any bytes (a `$batch` response's body, or at
/// most [`MAX_ERROR_ANSWER`] bytes read from the network) as the
/// [`Error::Graph`] Presently reports: Graph's code and message when the
/// body is `{"error":{"code":"...","message":"..."}}` with a message, else
/// the status's own words. The message is text for a terminal (no control
/// or bidi characters) of at most 300 characters and "...".
pub fn parse_error_body(status: u16, body: &[u8]) -> Error {
    let read = read_error_body(body);
    if let Some(e) = read.as_ref().filter(|e| e.request_id.is_some()) {
        // Kept for the log, not the sentence: support asks for them.
        tracing::info!(
            status,
            code = %e.code,
            request_id = e.request_id.as_deref().unwrap_or("-"),
            client_request_id = e.client_request_id.as_deref().unwrap_or("-"),
            date = e.date.as_deref().unwrap_or("-"),
            "Microsoft Graph answered with an error"
        );
    }
    let (code, message) = read
        .map(|e| (e.code, e.message))
        .unwrap_or_else(|| (String::new(), reason(status)));
    Error::Graph {
        status,
        code,
        message,
    }
}

fn error_from_answer(status: StatusCode, body: &[u8], presence: bool) -> Error {
    if presence && status == StatusCode::NOT_FOUND {
        // The China cloud (21Vianet) may have no presence API at all.
        let code = graph_error_body(body)
            .map(|(code, _)| code)
            .unwrap_or_default();
        return Error::Graph {
            status: 404,
            code,
            message: "presence is not available in this cloud.".into(),
        };
    }
    parse_error_body(status.as_u16(), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
        // Far too large is the longest wait Presently accepts, not a panic.
        for huge in ["18446744073709551615", "1e308", "99999999999999999999999"] {
            assert_eq!(
                parse_retry_after(huge, now),
                Some(MAX_RETRY_AFTER),
                "{huge}"
            );
        }
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(
            parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
    }

    #[test]
    fn graph_errors_are_read_and_bare_ones_named() {
        let body = br#"{"error":{"code":"Forbidden","message":"Missing scope Presence.Read.All"}}"#;
        match error_from_answer(StatusCode::FORBIDDEN, body, true) {
            Error::Graph {
                status,
                code,
                message,
            } => {
                assert_eq!((status, code.as_str()), (403, "Forbidden"));
                assert_eq!(message, "Missing scope Presence.Read.All");
            }
            other => panic!("{other:?}"),
        }
        match error_from_answer(StatusCode::BAD_REQUEST, b"", true) {
            Error::Graph {
                status, message, ..
            } => {
                assert_eq!((status, message.as_str()), (400, "Bad Request"))
            }
            other => panic!("{other:?}"),
        }
        let e = error_from_answer(StatusCode::NOT_FOUND, b"<html>", true);
        assert!(
            e.to_string()
                .contains("presence is not available in this cloud"),
            "{e}"
        );
        let e = error_from_answer(StatusCode::NOT_FOUND, b"", false);
        assert!(!e.to_string().contains("presence"), "{e}");
    }

    #[test]
    fn long_messages_are_shortened() {
        let long = "é".repeat(400);
        let body = format!(r#"{{"error":{{"code":"x","message":"{long}"}}}}"#);
        let (_, m) = graph_error_body(body.as_bytes()).unwrap();
        assert_eq!(m.chars().count(), 303);
    }

    #[test]
    fn batch_answers_carry_their_own_errors() {
        let ok: BatchResponse = serde_json::from_str(
            r#"{"id":"1","status":200,"headers":{"Content-Type":"application/json"},"body":{"displayName":"Megan"}}"#,
        )
        .unwrap();
        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct U {
            display_name: String,
        }
        assert_eq!(ok.json::<U>().unwrap().display_name, "Megan");
        assert_eq!(ok.header("content-type"), Some("application/json"));
        let missing: BatchResponse = serde_json::from_str(
            r#"{"id":"2","status":404,"body":{"error":{"code":"Request_ResourceNotFound","message":"No such user"}}}"#,
        )
        .unwrap();
        match missing.json::<U>().unwrap_err() {
            Error::Graph { status, code, .. } => {
                assert_eq!((status, code.as_str()), (404, "Request_ResourceNotFound"))
            }
            other => panic!("{other:?}"),
        }
        let r = serde_json::to_value(BatchRequest::get("1", "/me")).unwrap();
        assert_eq!(r, serde_json::json!({"id":"1","method":"GET","url":"/me"}));
    }

    /// A local Graph: the answers, in order, to one request each (the last
    /// repeats), with a `Content-Length` or, when `sized` is false, chunked.
    async fn graph_answering(answers: Vec<(u16, Vec<u8>)>, sized: bool) -> String {
        crate::http::canned::service(vec![("", answers)], sized).await
    }

    struct FixedToken;

    impl AccessTokens for FixedToken {
        fn access_token(&self) -> futures::future::BoxFuture<'_, Result<crate::secret::Secret>> {
            Box::pin(async { Ok(crate::secret::Secret::new("token".to_string())) })
        }
        fn token_rejected(&self) -> futures::future::BoxFuture<'_, Result<crate::secret::Secret>> {
            Box::pin(async { Err(Error::SignInNeeded("rejected".into())) })
        }
    }

    /// Graph's error body of exactly `size` bytes.
    fn error_answer(size: usize) -> Vec<u8> {
        let frame = r#"{"error":{"code":"Forbidden","message":""}}"#;
        let message = "x".repeat(size - frame.len());
        let body = format!(r#"{{"error":{{"code":"Forbidden","message":"{message}"}}}}"#);
        assert_eq!(body.len(), size);
        body.into_bytes()
    }

    /// An error answer one byte past 64 KiB is not read and is said to be
    /// too large, whether its length was announced or not; one of exactly
    /// 64 KiB is read as Graph's error; and the client goes on: the next
    /// request is answered.
    #[tokio::test]
    async fn error_answers_past_64_kib_are_refused_as_too_large() {
        let dir = tempfile::tempdir().unwrap();
        for sized in [true, false] {
            let url = graph_answering(
                vec![
                    (403, error_answer(MAX_ERROR_ANSWER + 1)),
                    (403, error_answer(MAX_ERROR_ANSWER)),
                    (200, br#"{"displayName":"Megan"}"#.to_vec()),
                ],
                sized,
            )
            .await;
            let settings = crate::config::Settings::resolve(&crate::config::Overrides {
                graph_url: Some(url.clone()),
                login_url: Some(url),
                config_dir: Some(dir.path().to_path_buf()),
                ..Default::default()
            })
            .unwrap();
            let graph = GraphClient::new(&settings, Arc::new(FixedToken)).unwrap();
            match graph.get_json::<serde_json::Value>("/me").await {
                Err(e @ Error::Malformed(_)) => assert!(
                    e.to_string().contains("/me was larger than 64 KiB"),
                    "sized {sized}: {e}"
                ),
                other => panic!("sized {sized}: {other:?}"),
            }
            match graph.get_json::<serde_json::Value>("/me").await {
                Err(Error::Graph {
                    status: 403,
                    code,
                    message,
                }) => {
                    assert_eq!(code, "Forbidden");
                    assert!(message.starts_with("xxx") && message.ends_with("..."));
                }
                other => panic!("sized {sized}: {other:?}"),
            }
            let me = graph.get_json::<serde_json::Value>("/me").await.unwrap();
            assert_eq!(me["displayName"], "Megan");
        }
    }
}
