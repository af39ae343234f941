//! Contract tests on Microsoft's own published answers. `graph-examples/`
//! holds the example requests and answers of the Graph and identity
//! platform documentation, verbatim, and `INDEX.json` names each one's
//! endpoint and source. Each answer of an endpoint Presently reads goes to
//! the code that reads it, and what that code must read is checked against
//! the answer itself.
//!
//! So far: presence, as `getPresencesByUserId` and `/me/presence` answer it.

use std::path::{Path, PathBuf};

use presently_core::presence::{parse_presence, parse_presences, Presence};
use serde_json::Value;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graph-examples")
}

/// The published JSON answers of `endpoints`: each one's file name and
/// bytes, exactly as published (or minimally repaired, where the index says
/// the published text was not JSON).
fn answers(endpoints: &[&str]) -> Vec<(String, Vec<u8>)> {
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

/// Checks that `read` holds what the published `item` says of a person.
fn same_person(file: &str, read: &Presence, item: &Value) {
    let said = |key: &str| item[key].as_str().unwrap_or_default().to_string();
    assert_eq!(read.id, said("id").to_ascii_lowercase(), "{file}");
    assert!(
        read.availability
            .as_str()
            .eq_ignore_ascii_case(&said("availability")),
        "{file}: {:?} for {}",
        read.availability,
        said("availability")
    );
    assert!(
        read.activity
            .as_str()
            .eq_ignore_ascii_case(&said("activity")),
        "{file}: {:?} for {}",
        read.activity,
        said("activity")
    );
    let out_of_office = item["outOfOfficeSettings"]["isOutOfOffice"]
        .as_bool()
        .unwrap_or(false);
    assert_eq!(
        read.out_of_office
            .as_ref()
            .is_some_and(|o| o.is_out_of_office),
        out_of_office,
        "{file}"
    );
    let note = item["statusMessage"]["message"]["content"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(
        read.status_message.is_some(),
        !note.trim().is_empty(),
        "{file}"
    );
}

#[test]
fn every_published_presence_batch_is_read_person_for_person() {
    for (file, body) in answers(&["POST /communications/getPresencesByUserId"]) {
        let published: Value = serde_json::from_slice(&body).unwrap();
        let read = parse_presences(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        let items = published["value"].as_array().unwrap();
        assert_eq!(read.len(), items.len(), "{file}");
        for (read, item) in read.iter().zip(items) {
            same_person(&file, read, item);
        }
    }
}

#[test]
fn every_published_answer_of_your_own_presence_is_read() {
    for (file, body) in answers(&["GET /me/presence", "GET /me/presence (beta)"]) {
        let published: Value = serde_json::from_slice(&body).unwrap();
        let read = parse_presence(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        same_person(&file, &read, &published);
        // An opaque version stamp is kept as it came.
        if let Some(stamp) = published["sequenceNumber"].as_str() {
            assert_eq!(read.sequence_number.as_deref(), Some(stamp), "{file}");
        }
    }
}
