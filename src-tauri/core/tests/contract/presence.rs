//! Presence, as `getPresencesByUserId` and `/me/presence` answer it.

use presently_core::presence::{parse_presence, parse_presences, Presence};
use serde_json::Value;

use crate::answers;

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

/// Every other published presence answer (another user's, by ID, beta
/// pages; a bare object or a `value` collection) is the same resource, read
/// by the same code: the out-of-office flag is `isOutOfOffice`, with or
/// without a message.
#[test]
fn every_other_published_presence_is_read_with_its_out_of_office_flag() {
    let answers = answers(&[
        "GET /users/{id}/presence",
        "GET /users/{id}/presence (beta)",
        "GET /communications/presences/{id}",
        "GET /communications/presences/{id} (beta)",
    ]);
    assert!(answers.len() >= 5);
    for (file, body) in answers {
        let published: Value = serde_json::from_slice(&body).unwrap();
        match published.get("value") {
            Some(Value::Array(items)) => {
                let read = parse_presences(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(read.len(), items.len(), "{file}");
                for (read, item) in read.iter().zip(items) {
                    same_person(&file, read, item);
                }
            }
            _ => {
                let read = parse_presence(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
                same_person(&file, &read, &published);
                let flag = published["outOfOfficeSettings"]["isOutOfOffice"].as_bool();
                assert_eq!(
                    read.is_out_of_office(),
                    flag.unwrap_or(false) || read.activity.as_str() == "OutOfOffice",
                    "{file}"
                );
            }
        }
    }
}
