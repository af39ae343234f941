//! Contract tests on Microsoft's own published answers. `graph-examples/`
//! holds the example requests and answers of the Graph and identity
//! platform documentation, verbatim, and `INDEX.json` names each one's
//! endpoint and source. Each answer of an endpoint Presently reads goes to
//! the code that reads it, and what that code must read is checked against
//! the answer itself: one module per endpoint, or family of endpoints.

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
    let index: Value =
        serde_json::from_slice(&std::fs::read(corpus().join("INDEX.json")).unwrap()).unwrap();
    let found: Vec<(String, Vec<u8>)> = index
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "response" && e["body_format"] == "json")
        .filter(|e| endpoints.contains(&e["endpoint"].as_str().unwrap_or_default()))
        .map(|e| {
            let file = e["file"].as_str().unwrap().to_string();
            let bytes = std::fs::read(corpus().join(&file)).unwrap();
            (file, bytes)
        })
        .collect();
    assert!(!found.is_empty(), "no published answer of {endpoints:?}");
    found
}

/// The index entries of `endpoints` of the given `kind` ("response",
/// "error" or "request"), whatever their body format.
pub fn entries(kind: &str, endpoints: &[&str]) -> Vec<Value> {
    let index: Value =
        serde_json::from_slice(&std::fs::read(corpus().join("INDEX.json")).unwrap()).unwrap();
    let found: Vec<Value> = index
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .filter(|e| endpoints.contains(&e["endpoint"].as_str().unwrap_or_default()))
        .cloned()
        .collect();
    assert!(!found.is_empty(), "no published {kind} of {endpoints:?}");
    found
}

/// One file of the corpus, as published.
pub fn read(file: &str) -> Vec<u8> {
    std::fs::read(corpus().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}
