//! Presence changes POSTed as JSON to a URL, with retries and backoff.
//!
//! Only `https://`, or `http://` to this machine (a local bridge, reached
//! without any proxy): presence and status messages are about people and
//! must not cross a network in the clear. Requests go one at a time from a
//! task of their own, so a slow or failing server never holds up polling.
//! What waits is each person's latest state, not every change: after an
//! outage of any length the server gets where everyone is now, once each,
//! and memory is bounded by the people, not by the time it was down.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use url::Url;

use crate::error::{Error, Result};

/// The wait before the first retry, doubled before each next one.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between tries, also for a server's `Retry-After`.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// People whose state waits to be sent; past this the longest waiting go.
const MAX_WAITING: usize = 10_000;

/// Where and how to POST.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    pub url: Url,
    /// Extra headers (`--header 'Authorization: Bearer ...'`).
    pub headers: HeaderMap,
}

impl WebhookTarget {
    /// Checks the URL (https, or http to loopback) and each `Name: value`.
    pub fn parse(url: &str, headers: &[String]) -> Result<WebhookTarget> {
        // Webhook URLs often carry their secret in the query (Power
        // Automate's `sig=`) or as a user and password: both are kept for
        // the request, but the URL is checked and named in errors without
        // them.
        let mut full = Url::parse(url.trim())
            .map_err(|e| Error::Config(format!("The webhook URL is not a valid URL ({e}).")))?;
        full.set_fragment(None);
        let mut bare = full.clone();
        bare.set_query(None);
        // Fails only for URLs without a host, which the check below names.
        let _ = bare.set_username("");
        let _ = bare.set_password(None);
        crate::config::parse_service_url("webhook URL", bare.as_str())?;
        let url = full;
        let mut map = HeaderMap::new();
        for raw in headers {
            let (name, value) = raw.split_once(':').ok_or_else(|| {
                Error::Config(format!(
                    "The header \"{}\" is not in the form 'Name: value'.",
                    crate::text::clean_text(raw, 80)
                ))
            })?;
            let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
                Error::Config(format!(
                    "\"{}\" is not a header name.",
                    crate::text::clean_text(name, 80)
                ))
            })?;
            let mut value = HeaderValue::from_str(value.trim()).map_err(|_| {
                // The value may be a secret: it is not repeated.
                Error::Config(format!(
                    "The value of the header {name} cannot be sent as it is."
                ))
            })?;
            value.set_sensitive(true);
            map.append(name, value);
        }
        Ok(WebhookTarget { url, headers: map })
    }
}

/// Whose state a body is: a person's ID, and whether it is yours (you may
/// be on your own roster too).
type Whose = (String, bool);

fn whose(body: &Value) -> Whose {
    (
        body["id"].as_str().unwrap_or_default().to_owned(),
        body["me"].as_bool().unwrap_or(false),
    )
}

/// Each person's latest state not yet delivered, in turn.
#[derive(Default)]
struct Waiting {
    turns: VecDeque<Whose>,
    latest: HashMap<Whose, Value>,
}

impl Waiting {
    /// A newer state of someone waiting replaces theirs, in their place.
    fn put(&mut self, body: Value) {
        let key = whose(&body);
        if self.latest.insert(key.clone(), body).is_some() {
            return;
        }
        if self.turns.len() == MAX_WAITING {
            if let Some(oldest) = self.turns.pop_front() {
                self.latest.remove(&oldest);
                tracing::warn!(
                    "The webhook is {MAX_WAITING} people behind; the longest waiting is dropped."
                );
            }
        }
        self.turns.push_back(key);
    }

    /// The next state to send, left in place until [`Self::sent`].
    fn next(&self) -> Option<Value> {
        self.turns
            .front()
            .and_then(|key| self.latest.get(key))
            .cloned()
    }

    /// `body` went (or will never go): done, unless a newer state of the
    /// same person came meanwhile, which then waits its turn.
    fn sent(&mut self, body: &Value) {
        let key = whose(body);
        self.turns.retain(|k| k != &key);
        if self.latest.get(&key) == Some(body) {
            self.latest.remove(&key);
        } else if self.latest.contains_key(&key) {
            self.turns.push_back(key);
        }
    }

    /// `body` could not go now: the others get their turn first, so that
    /// one state a server chokes on holds nobody else back.
    fn later(&mut self, body: &Value) {
        let key = whose(body);
        if let Some(at) = self.turns.iter().position(|k| k == &key) {
            self.turns.remove(at);
            self.turns.push_back(key);
        }
    }
}

struct Queue {
    waiting: Mutex<Waiting>,
    wake: Notify,
}

impl Queue {
    /// A std Mutex: held for a few map operations, never across an await.
    fn with<T>(&self, f: impl FnOnce(&mut Waiting) -> T) -> T {
        f(&mut self.waiting.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// How long to wait between failed tries: doubled from `first` up to `max`,
/// and back to `first` once a request went through.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    first: Duration,
    max: Duration,
}

/// POSTs changes to one URL until dropped.
pub struct WebhookPublisher {
    queue: Arc<Queue>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for WebhookPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookPublisher").finish_non_exhaustive()
    }
}

impl Drop for WebhookPublisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl WebhookPublisher {
    /// Starts the sender. Needs a tokio runtime.
    pub fn start(target: WebhookTarget) -> Result<WebhookPublisher> {
        Self::start_with(
            target,
            Backoff {
                first: FIRST_RETRY,
                max: MAX_RETRY,
            },
        )
    }

    fn start_with(target: WebhookTarget, backoff: Backoff) -> Result<WebhookPublisher> {
        let client = crate::http::default_client(&target.url)?;
        let queue = Arc::new(Queue {
            waiting: Mutex::new(Waiting::default()),
            wake: Notify::new(),
        });
        let task = tokio::spawn(send_all(client, target, queue.clone(), backoff));
        Ok(WebhookPublisher { queue, task })
    }

    /// Queues one person's state, replacing any of theirs still waiting.
    pub fn post(&self, body: Value) {
        self.queue.with(|w| w.put(body));
        self.queue.wake.notify_one();
    }
}

/// What became of one try.
enum Tried {
    /// Delivered, or refused in a way that trying again will not change.
    Done,
    /// Worth trying again later: why not now, and the server's `Retry-After`.
    Again(String, Option<String>),
}

async fn send_all(
    client: reqwest::Client,
    target: WebhookTarget,
    queue: Arc<Queue>,
    backoff: Backoff,
) {
    let mut wait = backoff.first;
    // Failed tries since the last success: the first of an outage is
    // logged as a warning, the rest quietly, and the end of it again.
    let mut failures = 0u32;
    loop {
        let Some(body) = queue.with(|w| w.next()) else {
            queue.wake.notified().await;
            continue;
        };
        match send_one(&client, &target, &body).await {
            Tried::Done => {
                queue.with(|w| w.sent(&body));
                if failures > 0 {
                    tracing::info!("The webhook is reached again, after {failures} failed tries.");
                }
                failures = 0;
                wait = backoff.first;
            }
            Tried::Again(why, retry_after) => {
                queue.with(|w| w.later(&body));
                failures += 1;
                let pause = pause_before_retry(retry_after.as_deref(), wait, SystemTime::now())
                    .min(backoff.max);
                if failures == 1 {
                    tracing::warn!(
                        "The webhook failed because {why}; trying again in {} s, and until it works (each person's latest state waits).",
                        pause.as_secs_f32()
                    );
                } else {
                    tracing::debug!(
                        "The webhook failed again because {why}; trying again in {} s.",
                        pause.as_secs_f32()
                    );
                }
                tokio::time::sleep(pause).await;
                wait = (wait * 2).min(backoff.max);
            }
        }
    }
}

/// One try: worth another after network errors, 429 and 5xx (the server may
/// get better), not after other answers (it will not).
async fn send_one(client: &reqwest::Client, target: &WebhookTarget, body: &Value) -> Tried {
    let sent = client
        .post(target.url.clone())
        .headers(target.headers.clone())
        .json(body)
        .send()
        .await;
    match sent {
        Ok(resp) if resp.status().is_success() => Tried::Done,
        Ok(resp) => {
            let status = resp.status();
            if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                tracing::warn!("The webhook answered {status}; this change is not sent again.");
                return Tried::Done;
            }
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            Tried::Again(format!("it answered {status}"), retry_after)
        }
        // Without the URL: its query or user part may hold a secret.
        Err(e) => Tried::Again(
            format!("it could not be reached ({})", e.without_url()),
            None,
        ),
    }
}

/// How long to wait before the next try: the server's `Retry-After` (in
/// seconds or as an HTTP date, read as Graph's is) when it says something
/// sensible, else our own backoff; never more than [`MAX_RETRY`], so that a
/// server asking for hours cannot hold every later change back that long.
fn pause_before_retry(retry_after: Option<&str>, backoff: Duration, now: SystemTime) -> Duration {
    retry_after
        .and_then(|v| crate::http::parse_retry_after(v, now))
        .unwrap_or(backoff)
        .min(MAX_RETRY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(WebhookTarget::parse("https://hooks.example/presence", &[]).is_ok());
        assert!(WebhookTarget::parse("http://127.0.0.1:8123/api/webhook/x", &[]).is_ok());
        assert!(WebhookTarget::parse("http://localhost/x", &[]).is_ok());
        let e = WebhookTarget::parse("http://192.168.1.10/x", &[]).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e:?}");
        assert!(e.to_string().contains("http://"), "{e}");
        assert!(WebhookTarget::parse("ftp://x/", &[]).is_err());
        let flow = "https://prod-1.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?api-version=2016-06-01&sig=SECRET";
        assert_eq!(WebhookTarget::parse(flow, &[]).unwrap().url.as_str(), flow);
        let e = WebhookTarget::parse("http://192.0.2.1/x?sig=SECRET", &[]).unwrap_err();
        assert!(!e.to_string().contains("SECRET"), "{e}");
    }

    #[test]
    fn a_user_and_password_in_the_url_are_kept_for_the_request_but_never_said() {
        let t = WebhookTarget::parse("https://bridge:hunter2@h.example/x", &[]).unwrap();
        assert_eq!(t.url.password(), Some("hunter2"));
        let e = WebhookTarget::parse("http://bridge:hunter2@192.0.2.1/x", &[]).unwrap_err();
        assert!(e.to_string().contains("only allowed for loopback"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert!(!e.to_string().contains("bridge"), "{e}");
    }

    fn state(id: &str, availability: &str) -> Value {
        serde_json::json!({"id": id, "me": false, "availability": availability})
    }

    #[test]
    fn each_person_waits_once_with_their_latest_state() {
        let mut w = Waiting::default();
        w.put(state("a", "Busy"));
        w.put(state("b", "Away"));
        w.put(state("a", "Available"));
        // Yours is apart from the same person's as a teammate.
        w.put(serde_json::json!({"id": "a", "me": true, "availability": "Away"}));
        assert_eq!(
            w.next(),
            Some(state("a", "Available")),
            "a's latest, in a's place"
        );
        // A newer state while the older was on its way: it goes too, after.
        let going = w.next().unwrap();
        w.put(state("a", "Offline"));
        w.sent(&going);
        assert_eq!(w.next(), Some(state("b", "Away")));
        // A state that could not go lets the others go first.
        w.later(&state("b", "Away"));
        assert_eq!(w.next().unwrap()["me"], true);
        let mut order = Vec::new();
        while let Some(body) = w.next() {
            order.push((body["id"].clone(), body["availability"].clone()));
            w.sent(&body);
        }
        assert_eq!(
            order,
            [("a", "Away"), ("a", "Offline"), ("b", "Away")].map(|(i, a)| (i.into(), a.into()))
        );
        assert!(w.latest.is_empty() && w.turns.is_empty());
    }

    #[test]
    fn past_the_limit_the_longest_waiting_person_goes() {
        let mut w = Waiting::default();
        for i in 0..=MAX_WAITING {
            w.put(state(&i.to_string(), "Busy"));
        }
        assert_eq!(w.turns.len(), MAX_WAITING);
        assert_eq!(w.latest.len(), MAX_WAITING);
        assert_eq!(w.next().unwrap()["id"], "1");
    }

    /// A webhook server that answers 503 while `down` holds, and hands over
    /// each body it took; `refused` counts the others.
    async fn flaky_server(
        down: Arc<std::sync::atomic::AtomicBool>,
        refused: Arc<std::sync::atomic::AtomicUsize>,
    ) -> (String, tokio::sync::mpsc::UnboundedReceiver<Value>) {
        use std::sync::atomic::Ordering::SeqCst;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                let body = loop {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => break None,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                    let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if got.len() >= end + 4 + length {
                        break Some(got[end + 4..end + 4 + length].to_vec());
                    }
                };
                let Some(body) = body else { continue };
                let status = if down.load(SeqCst) {
                    refused.fetch_add(1, SeqCst);
                    "503 Down"
                } else {
                    let _ = tx.send(serde_json::from_slice(&body).unwrap_or(Value::Null));
                    "200 OK"
                };
                let reply =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = conn.write_all(reply.as_bytes()).await;
            }
        });
        (url, rx)
    }

    #[tokio::test(start_paused = true)]
    async fn after_an_outage_each_person_gets_their_latest_state_once() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
        let down = Arc::new(AtomicBool::new(true));
        let refused = Arc::new(AtomicUsize::new(0));
        let (url, mut delivered) = flaky_server(down.clone(), refused.clone()).await;
        let backoff = Backoff {
            first: Duration::from_millis(5),
            max: Duration::from_millis(20),
        };
        let hook = WebhookPublisher::start_with(WebhookTarget::parse(&url, &[]).unwrap(), backoff)
            .unwrap();
        hook.post(state("a", "Busy"));
        hook.post(state("b", "Away"));
        // Down for many more tries than any fixed number: nothing is given up.
        let limit = tokio::time::Instant::now() + Duration::from_secs(30);
        while refused.load(SeqCst) < 20 {
            assert!(
                tokio::time::Instant::now() < limit,
                "the webhook is tried again"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        hook.post(state("a", "Available"));
        down.store(false, SeqCst);
        let mut got = Vec::new();
        for _ in 0..2 {
            let body = tokio::time::timeout(Duration::from_secs(30), delivered.recv())
                .await
                .expect("delivered after the outage")
                .unwrap();
            got.push(body);
        }
        got.sort_by_key(|b| b["id"].as_str().unwrap().to_owned());
        assert_eq!(got, [state("a", "Available"), state("b", "Away")]);
        // And nothing more: a's older state is not sent after the newer.
        let more = tokio::time::timeout(Duration::from_millis(300), delivered.recv()).await;
        assert!(more.is_err(), "{more:?}");
    }

    #[test]
    fn headers_are_name_colon_value_and_kept_secret() {
        let t = WebhookTarget::parse(
            "https://h.example/",
            &["Authorization: Bearer abc".into(), "X-Room:  2".into()],
        )
        .unwrap();
        assert_eq!(t.headers["authorization"], "Bearer abc");
        assert!(t.headers["authorization"].is_sensitive());
        assert_eq!(t.headers["x-room"], "2");
        for bad in ["no colon", "Bad Name: x", ": x", "X: a\nb"] {
            let e = WebhookTarget::parse("https://h.example/", &[bad.into()]).unwrap_err();
            assert!(!e.to_string().contains("a\nb"), "{e}");
        }
    }

    #[test]
    fn retry_after_is_read_like_graphs_and_capped() {
        let now = SystemTime::now();
        let backoff = Duration::from_secs(4);
        let pause = |v: Option<&str>| pause_before_retry(v, backoff, now);
        // No header, or one that is not a wait: our own backoff.
        assert_eq!(pause(None), backoff);
        for nonsense in ["soon", "-5", "", "1e400", "NaN", "-0.5", "5 s"] {
            assert_eq!(pause(Some(nonsense)), backoff, "{nonsense:?}");
        }
        // Seconds, as asked, within the cap; zero is "now".
        assert_eq!(pause(Some("0")), Duration::ZERO);
        assert_eq!(pause(Some(" 7 ")), Duration::from_secs(7));
        assert_eq!(pause(Some("2.5")), Duration::from_millis(2500));
        assert_eq!(pause(Some("31")), MAX_RETRY);
        assert_eq!(pause(Some(&u64::MAX.to_string())), MAX_RETRY);
        assert_eq!(pause(Some("99999999999999999999999")), MAX_RETRY);
        // An HTTP date: the time until then, nothing once it has passed.
        let later = httpdate::fmt_http_date(now + Duration::from_secs(12));
        let wait = pause(Some(&later));
        assert!(
            wait > Duration::from_secs(10) && wait <= Duration::from_secs(12),
            "{wait:?}"
        );
        let far = httpdate::fmt_http_date(now + Duration::from_secs(86_400));
        assert_eq!(pause(Some(&far)), MAX_RETRY);
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(60));
        assert_eq!(pause(Some(&earlier)), Duration::ZERO);
    }
}
