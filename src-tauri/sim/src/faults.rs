//! Faults to inject: the next N matching requests fail in a chosen way.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A fault that shapes the answer to the next `count` matching requests.
///
/// In JSON (the control API's `POST /_sim/faults`) it is flat:
/// `{"kind":"status","status":429,"retry_after":"3","path":"/v1.0/...","count":1}`,
/// `{"kind":"slow","delay_ms":2000}`, `{"kind":"malformed"}`, `{"kind":"drop"}`,
/// `{"kind":"redirect","status":307,"location":"https://proxy.example/login"}`;
/// `path` and `count` (default 1) are optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultSpec", into = "FaultSpec")]
pub struct Fault {
    pub kind: FaultKind,
    /// Path prefix to match, e.g. `/v1.0/communications/getPresencesByUserId`
    /// or `/organizations/oauth2/v2.0/token`; `None` matches every Graph
    /// (`/v1.0/...`) request. Requests inside a `$batch` are never matched:
    /// the `$batch` request itself is.
    pub path: Option<String>,
    /// How many matching requests to affect; 0 affects none.
    pub count: u32,
}

/// How a faulted request is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status (and Graph's or Entra ID's error body), and a
    /// `Retry-After` header with this value verbatim: seconds or an HTTP date.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// Answer normally, after this delay.
    Slow { delay: Duration },
    /// Answer 200 with a body that is not valid JSON (truncated).
    Malformed,
    /// Close the connection without any answer.
    Drop,
    /// Answer with this status (meant for 3xx) and a `Location` header, and
    /// no body, as a captive portal or a badly set up proxy does. The
    /// location is sent verbatim, so it must be a valid header value.
    Redirect { status: u16, location: String },
    /// Answer with exactly this (a fixture): Microsoft's published answers
    /// through [`crate::Examples`], or any answer a test writes.
    Answer(Canned),
}

/// A whole answer, as it is to be sent: status, headers in order, body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canned {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Fault {
    /// A fault for the next Graph request.
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            path: None,
            count: 1,
        }
    }

    /// `status` for the next Graph request, e.g. `Fault::status(503, None)`.
    pub fn status(status: u16, retry_after: Option<&str>) -> Fault {
        Fault::new(FaultKind::Status {
            status,
            retry_after: retry_after.map(str::to_owned),
        })
    }

    /// A redirect for the next Graph request, e.g.
    /// `Fault::redirect(307, "https://login.example/").on("/organizations/oauth2/v2.0/token")`.
    pub fn redirect(status: u16, location: &str) -> Fault {
        Fault::new(FaultKind::Redirect {
            status,
            location: location.to_owned(),
        })
    }

    /// Exactly this answer for the next Graph request (see [`Canned`]).
    pub fn answer(canned: Canned) -> Fault {
        Fault::new(FaultKind::Answer(canned))
    }

    /// Only requests whose path starts with `prefix`.
    pub fn on(mut self, prefix: &str) -> Fault {
        self.path = Some(prefix.to_owned());
        self
    }

    /// The next `count` matching requests instead of one.
    pub fn times(mut self, count: u32) -> Fault {
        self.count = count;
        self
    }

    fn matches(&self, path: &str) -> bool {
        match &self.path {
            Some(prefix) => path.starts_with(prefix.as_str()),
            None => path.starts_with("/v1.0/"),
        }
    }
}

impl FaultKind {
    /// How the log describes the fault.
    pub(crate) fn label(&self) -> String {
        match self {
            FaultKind::Status { status, .. } => format!("status {status}"),
            FaultKind::Slow { delay } => format!("slow {}ms", delay.as_millis()),
            FaultKind::Malformed => "malformed".to_owned(),
            FaultKind::Drop => "drop".to_owned(),
            FaultKind::Redirect { status, .. } => format!("redirect {status}"),
            FaultKind::Answer(canned) => format!("answer {}", canned.status),
        }
    }
}

/// The flat JSON shape of a [`Fault`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultSpec {
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    /// Seconds as a number or a string, or an HTTP date; sent verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    /// An `answer`'s headers, as `[[name, value], ...]`, and its body as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    headers: Option<Vec<(String, String)>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    count: Option<u32>,
}

impl TryFrom<FaultSpec> for Fault {
    type Error = String;

    fn try_from(spec: FaultSpec) -> Result<Fault, String> {
        let kind = match spec.kind.as_str() {
            "status" => {
                let status = spec
                    .status
                    .ok_or("a 'status' fault needs \"status\": <code>")?;
                if !(100..=599).contains(&status) {
                    return Err(format!("{status} is not an HTTP status code"));
                }
                let retry_after = match spec.retry_after {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => Some(s),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    Some(other) => {
                        return Err(format!(
                            "retry_after must be a string or a number, not {other}"
                        ))
                    }
                };
                FaultKind::Status {
                    status,
                    retry_after,
                }
            }
            "slow" => FaultKind::Slow {
                delay: Duration::from_millis(
                    spec.delay_ms
                        .ok_or("a 'slow' fault needs \"delay_ms\": <milliseconds>")?,
                ),
            },
            "malformed" => FaultKind::Malformed,
            "drop" => FaultKind::Drop,
            "redirect" => {
                let status = spec
                    .status
                    .ok_or("a 'redirect' fault needs \"status\": <3xx code>")?;
                if !(300..=399).contains(&status) {
                    return Err(format!("a redirect needs a 3xx status, not {status}"));
                }
                let location = spec
                    .location
                    .ok_or("a 'redirect' fault needs \"location\": <URL>")?;
                if axum::http::HeaderValue::from_str(&location).is_err() {
                    return Err(format!(
                        "'{location}' cannot be sent as a Location header: use visible ASCII"
                    ));
                }
                FaultKind::Redirect { status, location }
            }
            "answer" => {
                let status = spec
                    .status
                    .ok_or("an 'answer' needs \"status\": <code>")?;
                if !(100..=599).contains(&status) {
                    return Err(format!("{status} is not an HTTP status code"));
                }
                let headers = spec.headers.unwrap_or_default();
                for (name, value) in &headers {
                    if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err()
                        || axum::http::HeaderValue::from_str(value).is_err()
                    {
                        return Err(format!("'{name}: {value}' cannot be sent as a header"));
                    }
                }
                FaultKind::Answer(Canned {
                    status,
                    headers,
                    body: spec.body.unwrap_or_default().into_bytes(),
                })
            }
            other => {
                return Err(format!(
                    "unknown fault kind '{other}': use status, slow, malformed, drop, redirect or answer"
                ))
            }
        };
        let count = spec.count.unwrap_or(1);
        if count == 0 {
            return Err("count must be at least 1".to_owned());
        }
        Ok(Fault {
            kind,
            path: spec.path,
            count,
        })
    }
}

impl From<Fault> for FaultSpec {
    fn from(f: Fault) -> FaultSpec {
        let mut spec = FaultSpec {
            kind: String::new(),
            status: None,
            retry_after: None,
            delay_ms: None,
            location: None,
            headers: None,
            body: None,
            path: f.path,
            count: Some(f.count),
        };
        spec.kind = match f.kind {
            FaultKind::Status {
                status,
                retry_after,
            } => {
                spec.status = Some(status);
                spec.retry_after = retry_after.map(Value::String);
                "status"
            }
            FaultKind::Slow { delay } => {
                spec.delay_ms = Some(delay.as_millis() as u64);
                "slow"
            }
            FaultKind::Malformed => "malformed",
            FaultKind::Drop => "drop",
            FaultKind::Redirect { status, location } => {
                spec.status = Some(status);
                spec.location = Some(location);
                "redirect"
            }
            FaultKind::Answer(canned) => {
                spec.status = Some(canned.status);
                spec.headers = Some(canned.headers);
                spec.body = Some(String::from_utf8_lossy(&canned.body).into_owned());
                "answer"
            }
        }
        .to_owned();
        spec
    }
}

/// Injected faults still waiting for their requests, oldest first.
#[derive(Debug, Default)]
pub(crate) struct FaultBook {
    pending: Vec<Fault>,
}

impl FaultBook {
    pub fn inject(&mut self, fault: Fault) {
        if fault.count > 0 {
            self.pending.push(fault);
        }
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// The fault for a request to `path`, if one is waiting; uses it up.
    pub fn take(&mut self, path: &str) -> Option<FaultKind> {
        let i = self.pending.iter().position(|f| f.matches(path))?;
        let kind = self.pending[i].kind.clone();
        self.pending[i].count -= 1;
        if self.pending[i].count == 0 {
            self.pending.remove(i);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_is_flat_and_round_trips() {
        let f: Fault = serde_json::from_str(
            r#"{"kind":"status","status":429,"retry_after":3,"path":"/v1.0/me"}"#,
        )
        .unwrap();
        assert_eq!(f, Fault::status(429, Some("3")).on("/v1.0/me"));
        let slow = Fault::new(FaultKind::Slow {
            delay: Duration::from_millis(1500),
        })
        .times(2);
        let json = serde_json::to_value(&slow).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "slow", "delay_ms": 1500, "path": null, "count": 2})
        );
        assert_eq!(serde_json::from_value::<Fault>(json).unwrap(), slow);
        let err = serde_json::from_str::<Fault>(r#"{"kind":"status"}"#).unwrap_err();
        assert!(err.to_string().contains("needs \"status\""), "{err}");
    }

    #[test]
    fn redirects_round_trip_and_are_checked() {
        let f: Fault = serde_json::from_str(
            r#"{"kind":"redirect","status":307,"location":"https://proxy.example/","path":"/common/oauth2/v2.0/token"}"#,
        )
        .unwrap();
        let expected =
            Fault::redirect(307, "https://proxy.example/").on("/common/oauth2/v2.0/token");
        assert_eq!(f, expected);
        assert_eq!(f.kind.label(), "redirect 307");
        let json = serde_json::to_value(&expected).unwrap();
        assert_eq!(json["location"], "https://proxy.example/");
        assert_eq!(serde_json::from_value::<Fault>(json).unwrap(), expected);
        for (body, says) in [
            (
                r#"{"kind":"redirect","location":"https://x/"}"#,
                "needs \"status\"",
            ),
            (
                r#"{"kind":"redirect","status":200,"location":"https://x/"}"#,
                "3xx",
            ),
            (r#"{"kind":"redirect","status":302}"#, "needs \"location\""),
            (
                r#"{"kind":"redirect","status":302,"location":"a\nb"}"#,
                "Location header",
            ),
        ] {
            let err = serde_json::from_str::<Fault>(body).unwrap_err().to_string();
            assert!(err.contains(says), "{body}: {err}");
        }
    }

    #[test]
    fn faults_apply_in_order_and_run_out() {
        let mut book = FaultBook::default();
        book.inject(Fault::status(503, None).on("/v1.0/me").times(2));
        book.inject(Fault::new(FaultKind::Drop));
        assert_eq!(
            book.take("/common/oauth2/v2.0/token"),
            None,
            "default matches Graph only"
        );
        assert_eq!(book.take("/v1.0/users").unwrap(), FaultKind::Drop);
        assert_eq!(book.take("/v1.0/users"), None);
        assert!(matches!(
            book.take("/v1.0/me/presence"),
            Some(FaultKind::Status { status: 503, .. })
        ));
        assert!(book.take("/v1.0/me").is_some());
        assert!(book.take("/v1.0/me").is_none());
        book.inject(Fault::new(FaultKind::Malformed).times(0));
        assert!(book.take("/v1.0/me").is_none());
    }
}
