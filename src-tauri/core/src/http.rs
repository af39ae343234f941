//! The one way Presently builds an HTTP client, for sign-in and for Graph.
//!
//! - TLS trusts Mozilla's root list and the OS certificate store, so that a
//!   company that inspects TLS with a root of its own in the OS store works
//!   (`SSL_CERT_FILE` and `SSL_CERT_DIR` are honoured as well).
//! - Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` and from the OS
//!   settings (Windows and macOS), except for this machine's own addresses
//!   ([`is_loopback`]): a proxy elsewhere would reach its own loopback, not
//!   ours, and a local service's traffic has no reason to leave.
//! - Redirects are never followed: a token request or a Graph request that is
//!   answered with a redirect fails, so no token or code is sent to a host it
//!   was not meant for.
//! - Answers are read with a size limit ([`read_limited`]), and what is
//!   promised as a JSON object is read as nothing else ([`Object`]).

use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use url::Url;

pub use crate::error::certificate_hint;
use crate::error::{Error, Result};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A client for requests to `target`'s host, with Presently's user agent,
/// timeouts, roots, proxies (none to loopback) and no redirects.
pub fn client(
    target: &Url,
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("Presently/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        .redirect(reqwest::redirect::Policy::none());
    if is_loopback(target) {
        builder = builder.no_proxy();
    }
    builder
        .build()
        .map_err(|e| Error::Network(format!("Could not set up networking: {e}")))
}

/// The client for `target` with the default timeouts.
pub fn default_client(target: &Url) -> Result<reqwest::Client> {
    client(target, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
}

/// Whether `url` names this machine: `localhost`, or a loopback address.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        // Also where an address comes as a name: the hosts of schemes the
        // URL standard does not know (`mqtt://127.0.0.1`) are not parsed.
        Some(url::Host::Domain(d)) => {
            let d = d.strip_suffix('.').unwrap_or(d);
            let bare = d.trim_start_matches('[').trim_end_matches(']');
            d.eq_ignore_ascii_case("localhost")
                || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The answer's body, or `None` once it grows past `limit` bytes: a server
/// that sends without end is cut off, not buffered.
pub async fn read_limited(
    mut resp: reqwest::Response,
    limit: usize,
) -> std::result::Result<Option<Vec<u8>>, reqwest::Error> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(None);
    }
    // Sized once from Content-Length (already within `limit`): a body of
    // 650 presences grown by doubling leaves a trail of freed buffers that
    // the heap keeps.
    let expected = resp.content_length().map_or(0, |n| n as usize);
    let mut body = Vec::with_capacity(expected);
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// A JSON object read as `T`, and nothing else. serde's derived
/// `Deserialize` also reads a struct from a JSON array, field by field, so
/// `[[]]` would pass for an empty presence answer and `["x", 200]` for a
/// batch response: every answer Microsoft promises as an object is read
/// through this, at the top and where objects nest, so that any other shape
/// is [`Error::Malformed`] instead of a quietly wrong answer. Unknown fields
/// stay accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Object<T>(pub T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct OnlyMaps<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for OnlyMaps<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> std::result::Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(OnlyMaps(std::marker::PhantomData))
            .map(Object)
    }
}

/// Canned answers on loopback, for the tests of what reads answers.
/// A `Retry-After` longer than this is taken as this: Graph asks for seconds or
/// minutes, and a broken header must not silence the app for days.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// `Retry-After` as a wait from `now`: whole seconds (a fraction is tolerated)
/// or an HTTP date. A date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

#[cfg(test)]
pub(crate) mod canned {
    /// An answer: its status and body.
    pub type Canned = (u16, Vec<u8>);

    /// A local HTTP service for tests: each answer to a path ending in a route's
    /// ending is the next of its list (the last one repeats), sent with a
    /// `Content-Length` or, when `sized` is false, chunked. Returns the
    /// base URL.
    pub async fn service(routes: Vec<(&'static str, Vec<Canned>)>, sized: bool) -> String {
        use std::sync::{Arc, Mutex};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let routes = Arc::new(Mutex::new(routes));
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body) = {
                    let mut routes = routes.lock().unwrap();
                    match routes.iter_mut().find(|(end, _)| path.ends_with(end)) {
                        Some((_, answers)) if answers.len() > 1 => answers.remove(0),
                        Some((_, answers)) => answers[0].clone(),
                        None => (404, Vec::new()),
                    }
                };
                let framing = if sized {
                    format!("Content-Length: {}", body.len())
                } else {
                    "Transfer-Encoding: chunked".to_string()
                };
                let head = format!(
                    "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\n{framing}\r\nConnection: close\r\n\r\n"
                );
                let _ = conn.write_all(head.as_bytes()).await;
                if sized {
                    let _ = conn.write_all(&body).await;
                } else {
                    for chunk in body.chunks(16 * 1024) {
                        let _ = conn
                            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                            .await;
                        let _ = conn.write_all(chunk).await;
                        let _ = conn.write_all(b"\r\n").await;
                    }
                    let _ = conn.write_all(b"0\r\n\r\n").await;
                }
                let _ = conn.shutdown().await;
            }
        });
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, Deserialize)]
    struct Pair {
        a: u8,
        b: Option<String>,
    }

    #[test]
    fn loopback_is_this_machine_by_name_or_address_in_any_scheme() {
        for url in [
            "http://127.0.0.1:8123/x",
            "http://localhost/",
            "https://[::1]:9/",
            "mqtt://127.0.0.1:1883",
            "mqtt://[::1]",
            "mqtt://LOCALHOST",
            "http://127.3.4.5/",
        ] {
            assert!(is_loopback(&Url::parse(url).unwrap()), "{url}");
        }
        for url in [
            "http://10.0.0.2/",
            "mqtt://192.0.2.1",
            "mqtt://broker.lan",
            "https://localhost.example.com/",
            "mqtt://[2001:db8::1]",
        ] {
            assert!(!is_loopback(&Url::parse(url).unwrap()), "{url}");
        }
    }

    #[test]
    fn objects_are_read_and_arrays_refused() {
        let Object(p) = serde_json::from_str::<Object<Pair>>(r#"{"a":1,"zz":[],"b":"x"}"#).unwrap();
        assert_eq!(
            p,
            Pair {
                a: 1,
                b: Some("x".into())
            }
        );
        // The derived impl alone takes the array; through Object it is refused.
        assert!(serde_json::from_str::<Pair>(r#"[1,"x"]"#).is_ok());
        for not_an_object in [r#"[1,"x"]"#, "[]", "1", "\"a\"", "null"] {
            let e = serde_json::from_str::<Object<Pair>>(not_an_object).unwrap_err();
            assert!(
                e.to_string().contains("expected a JSON object"),
                "{not_an_object}: {e}"
            );
        }
        let v = serde_json::json!([1, "x"]);
        assert!(Object::<Pair>::deserialize(&v).is_err());
        assert!(Object::<serde_json::Value>::deserialize(&serde_json::json!({"k": 1})).is_ok());
    }
}
