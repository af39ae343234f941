//! Microsoft's published example answers as fixtures: the simulator answers
//! a request with one of them, byte for byte, instead of its own.
//!
//! A corpus is laid out as `../shared/graph-examples` is (Presently keeps a
//! copy in `core/tests/graph-examples`): an `INDEX.json` naming each file's
//! endpoint, kind (`response`, `error` or `request`), published status and
//! headers, and body format, beside the files. Where the documentation shows
//! no status, a response is sent as 200 and an error as 400, the status
//! Graph and the identity platform give a request they refuse. The published
//! `Content-Length` never matched its (shortened) body, so the server writes
//! its own; a JSON body shown without a `Content-Type` gets
//! `application/json`, as every real answer has.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Result, SimError};
use crate::faults::{Canned, Fault};

/// A corpus of published examples.
#[derive(Debug, Clone)]
pub struct Examples {
    dir: PathBuf,
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
struct Entry {
    file: String,
    endpoint: String,
    kind: String,
    status: Option<u16>,
    headers: Option<Map<String, Value>>,
    body_format: String,
}

impl Examples {
    /// The corpus in `dir` (its `INDEX.json` read now, the files when used).
    pub fn open(dir: impl AsRef<Path>) -> Result<Examples> {
        let dir = dir.as_ref().to_path_buf();
        let index = dir.join("INDEX.json");
        let bytes = std::fs::read(&index)
            .map_err(|e| SimError::Examples(format!("{}: {e}", index.display())))?;
        let entries: Vec<Entry> = serde_json::from_slice(&bytes)
            .map_err(|e| SimError::Examples(format!("{}: {e}", index.display())))?;
        Ok(Examples { dir, entries })
    }

    /// The files of the published answers (`kind` "response" or "error") of
    /// `endpoint`, as `INDEX.json` names it, in the index's order.
    pub fn files(&self, endpoint: &str, kind: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.endpoint == endpoint && e.kind == kind)
            .map(|e| e.file.clone())
            .collect()
    }

    /// The answer published as `file`, as the simulator would send it.
    pub fn canned(&self, file: &str) -> Result<Canned> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.file == file && e.kind != "request")
            .ok_or_else(|| SimError::Examples(format!("no published answer named '{file}'")))?;
        let status = entry
            .status
            .unwrap_or(if entry.kind == "error" { 400 } else { 200 });
        let mut headers: Vec<(String, String)> = entry
            .headers
            .iter()
            .flatten()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("content-length"))
            .map(|(name, value)| {
                let value = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (name.clone(), value)
            })
            .collect();
        let body = match entry.body_format.as_str() {
            "json" | "text" | "form" => std::fs::read(self.dir.join(&entry.file))
                .map_err(|e| SimError::Examples(format!("{file}: {e}")))?,
            _ => Vec::new(),
        };
        let has_type = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
        if entry.body_format == "json" && !has_type {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        Ok(Canned {
            status,
            headers,
            body,
        })
    }

    /// A fault that answers the next request whose path starts with
    /// `path_prefix` with the answer published as `file`.
    pub fn answer(&self, file: &str, path_prefix: &str) -> Result<Fault> {
        Ok(Fault::answer(self.canned(file)?).on(path_prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Examples {
        Examples::open(Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/graph-examples"))
            .unwrap()
    }

    #[test]
    fn published_answers_are_sent_with_their_status_headers_and_bytes() {
        let examples = corpus();
        let files = examples.files("POST /$batch", "response");
        assert_eq!(files, ["batch-response-1.json", "batch-response-3.json"]);
        let canned = examples.canned("batch-response-1.json").unwrap();
        assert_eq!(canned.status, 200);
        assert!(canned
            .headers
            .iter()
            .any(|(n, v)| n == "Content-Type" && v.starts_with("application/json")));
        assert_eq!(
            canned.body,
            std::fs::read(examples.dir.join("batch-response-1.json")).unwrap()
        );

        // Shown without a status: an error is a 400. Without a Content-Type:
        // JSON says so.
        let error = examples
            .canned("token-error-invalid-grant-50034.json")
            .unwrap();
        assert_eq!(error.status, 400);
        assert!(error
            .headers
            .iter()
            .any(|(n, v)| n == "Content-Type" && v == "application/json"));

        // A published Content-Length is never sent: the body was shortened.
        for endpoint in [
            "POST /communications/getPresencesByUserId",
            "GET /me/presence",
        ] {
            for file in examples.files(endpoint, "response") {
                let canned = examples.canned(&file).unwrap();
                assert!(
                    canned
                        .headers
                        .iter()
                        .all(|(n, _)| !n.eq_ignore_ascii_case("content-length")),
                    "{file}"
                );
            }
        }

        assert!(examples.canned("no-such-file.json").is_err());
        assert!(
            examples
                .canned("getpresencesbyuserid-request-1.json")
                .is_err(),
            "a request is not an answer"
        );
        assert!(Examples::open("/nonexistent/corpus").is_err());
    }
}
