//! Contract tests on Microsoft's own published answers. `graph-examples/`
//! holds the example requests and answers of the Graph and identity
//! platform documentation, verbatim, and `INDEX.json` names each one's
//! endpoint and source. Each answer of an endpoint Presently reads goes to
//! the code that reads it, and what that code must read is checked against
//! the answer itself: one module per endpoint, or family of endpoints.

#[path = "../common/mod.rs"]
mod common;
mod directory;
mod errors;
mod presence;
mod schedule;
mod tokens;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graph-examples")
}

/// The published JSON answers of `endpoints`: each one's file name and
/// bytes, exactly as published (or minimally repaired, where the index says
/// the published text was not JSON).
pub fn answers(endpoints: &[&str]) -> Vec<(String, Vec<u8>)> {
    let found = published("response", |endpoint| endpoints.contains(&endpoint));
    assert!(!found.is_empty(), "no published answer of {endpoints:?}");
    found
}

/// The published JSON bodies of `kind` ("response" or "error") whose
/// endpoint `wanted` accepts: each one's file name and bytes.
pub fn published(kind: &str, wanted: impl Fn(&str) -> bool) -> Vec<(String, Vec<u8>)> {
    index()
        .iter()
        .filter(|e| e["kind"] == kind && e["body_format"] == "json")
        .filter(|e| wanted(e["endpoint"].as_str().unwrap_or_default()))
        .map(|e| {
            let file = e["file"].as_str().unwrap().to_string();
            let bytes = read(&file);
            (file, bytes)
        })
        .collect()
}

/// The index entries of `endpoints` of the given `kind` ("response",
/// "error" or "request"), whatever their body format.
pub fn entries(kind: &str, endpoints: &[&str]) -> Vec<Value> {
    let found: Vec<Value> = index()
        .into_iter()
        .filter(|e| e["kind"] == kind)
        .filter(|e| endpoints.contains(&e["endpoint"].as_str().unwrap_or_default()))
        .collect();
    assert!(!found.is_empty(), "no published {kind} of {endpoints:?}");
    found
}

/// One file of the corpus, as published.
pub fn read(file: &str) -> Vec<u8> {
    std::fs::read(corpus().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Every entry of `INDEX.json`.
pub fn index() -> Vec<Value> {
    let index: Value = serde_json::from_slice(&read("INDEX.json")).unwrap();
    index.as_array().unwrap().clone()
}
