//! Faults to inject: the next N matching requests fail in a chosen way.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fault that shapes the answer to the next `count` matching requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
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
        }
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
