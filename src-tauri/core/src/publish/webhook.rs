//! Presence changes POSTed as JSON to a URL, with retries and backoff.
//!
//! Only `https://`, or `http://` to this machine (a local bridge): presence
//! and status messages are about people and must not cross a network in the
//! clear. Requests go one at a time, in order, from a task of their own, so
//! a slow or failing server never holds up polling; if it falls far behind,
//! the oldest changes are dropped (and logged) rather than memory growing.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use url::Url;

use crate::error::{Error, Result};

/// Tries per change: the first and four retries.
const TRIES: u32 = 5;
/// The wait before the first retry, doubled before each next one.
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between tries, also for a server's `Retry-After`.
const MAX_RETRY: Duration = Duration::from_secs(30);
/// Changes waiting to be sent; past this the oldest go.
const MAX_QUEUE: usize = 1_000;

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
        // Automate's `sig=`): it is kept for the request, but checked and
        // named in errors without it.
        let mut full = Url::parse(url.trim())
            .map_err(|e| Error::Config(format!("The webhook URL is not a valid URL ({e}).")))?;
        full.set_fragment(None);
        let mut bare = full.clone();
        bare.set_query(None);
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

struct Queue {
    bodies: Mutex<VecDeque<Value>>,
    wake: Notify,
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
        let client = crate::http::default_client()?;
        let queue = Arc::new(Queue {
            bodies: Mutex::new(VecDeque::new()),
            wake: Notify::new(),
        });
        let task = tokio::spawn(send_all(client, target, queue.clone()));
        Ok(WebhookPublisher { queue, task })
    }

    /// Queues one JSON body.
    pub fn post(&self, body: Value) {
        {
            // A std Mutex: held for a push, never across an await.
            let mut q = self.queue.bodies.lock().unwrap_or_else(|e| e.into_inner());
            if q.len() == MAX_QUEUE {
                q.pop_front();
                tracing::warn!(
                    "The webhook is {MAX_QUEUE} changes behind; the oldest change is dropped."
                );
            }
            q.push_back(body);
        }
        self.queue.wake.notify_one();
    }
}

async fn send_all(client: reqwest::Client, target: WebhookTarget, queue: Arc<Queue>) {
    loop {
        loop {
            let next = queue
                .bodies
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front();
            match next {
                Some(body) => send_one(&client, &target, &body).await,
                None => break,
            }
        }
        queue.wake.notified().await;
    }
}

/// Sends one body: retried after network errors, 429 and 5xx (the server
/// may get better), not after other answers (it will not).
async fn send_one(client: &reqwest::Client, target: &WebhookTarget, body: &Value) {
    let mut wait = FIRST_RETRY;
    for attempt in 1..=TRIES {
        let sent = client
            .post(target.url.clone())
            .headers(target.headers.clone())
            .json(body)
            .send()
            .await;
        let (why, retry_after) = match sent {
            Ok(resp) if resp.status().is_success() => return,
            Ok(resp) => {
                let status = resp.status();
                if !(status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()) {
                    tracing::warn!("The webhook answered {status}; this change is not sent again.");
                    return;
                }
                let retry_after = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                (format!("it answered {status}"), retry_after)
            }
            // Without the URL: its query may hold the webhook's secret.
            Err(e) => (
                format!("it could not be reached ({})", e.without_url()),
                None,
            ),
        };
        if attempt == TRIES {
            tracing::warn!(
                "The webhook failed {TRIES} times, last because {why}; this change is dropped."
            );
            return;
        }
        let pause = pause_before_retry(retry_after.as_deref(), wait, SystemTime::now());
        tracing::warn!(
            "The webhook failed because {why}; trying again in {} s.",
            pause.as_secs_f32()
        );
        tokio::time::sleep(pause).await;
        wait = (wait * 2).min(MAX_RETRY);
    }
}

/// How long to wait before the next try: the server's `Retry-After` (in
/// seconds or as an HTTP date, read as Graph's is) when it says something
/// sensible, else our own backoff; never more than [`MAX_RETRY`], so that a
/// server asking for hours cannot hold every later change back that long.
fn pause_before_retry(retry_after: Option<&str>, backoff: Duration, now: SystemTime) -> Duration {
    retry_after
        .and_then(|v| crate::graph::parse_retry_after(v, now))
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
