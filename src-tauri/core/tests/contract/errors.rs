//! Graph's error bodies, `$batch` answers and profile photos, as Microsoft
//! publishes them.

use presently_core::directory::is_placeholder;
use presently_core::graph::{parse_batch_answer, parse_error_body, read_error_body};
use presently_core::Error;
use serde_json::Value;

use crate::{answers, entries, read};

/// What an error envelope says, read straight from the published JSON.
fn published_error(body: &Value) -> (String, String, Option<String>) {
    let e = &body["error"];
    let inner = if e["innerError"].is_object() {
        &e["innerError"]
    } else {
        &e["innererror"]
    };
    let request_id = inner["request-id"]
        .as_str()
        .or(inner["requestId"].as_str())
        .map(str::to_owned);
    (
        e["code"].as_str().unwrap_or_default().to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
        request_id,
    )
}

#[test]
fn every_published_graph_error_is_read_with_its_code_message_and_request_id() {
    let errors = entries("error", &["(any Graph error)"]);
    assert!(errors.len() >= 2);
    for entry in errors {
        let file = entry["file"].as_str().unwrap();
        let body = read(file);
        let published: Value = serde_json::from_slice(&body).unwrap();
        let (code, message, request_id) = published_error(&published);
        let read = read_error_body(&body).unwrap_or_else(|| panic!("{file}: not read"));
        assert_eq!(read.code, code, "{file}");
        assert_eq!(read.message, message, "{file}");
        // `request-id` on one page, `requestId` on another: both kept.
        assert!(request_id.is_some(), "{file}");
        assert_eq!(read.request_id, request_id, "{file}");
        assert_eq!(
            read.date.as_deref(),
            published["error"]["innerError"]["date"].as_str(),
            "{file}"
        );
        match parse_error_body(400, &body) {
            Error::Graph {
                status,
                code: c,
                message: m,
            } => {
                assert_eq!(
                    (status, c, m),
                    (400, code.clone(), message.clone()),
                    "{file}"
                );
            }
            other => panic!("{file}: {other:?}"),
        }
        // The sentence is Graph's message; the IDs go to the log.
        let sentence = parse_error_body(400, &body).to_string();
        assert!(
            !sentence.contains(request_id.as_deref().unwrap()),
            "{file}: {sentence}"
        );
    }
}

#[test]
fn every_published_batch_answer_is_read_item_by_item_in_any_order() {
    for (file, body) in answers(&["POST /$batch"]) {
        let published: Value = serde_json::from_slice(&body).unwrap();
        let items = published["responses"].as_array().unwrap();
        let read = parse_batch_answer(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(read.len(), items.len(), "{file}");
        for (got, item) in read.iter().zip(items) {
            assert_eq!(got.id, item["id"].as_str().unwrap(), "{file}");
            assert_eq!(
                u64::from(got.status),
                item["status"].as_u64().unwrap(),
                "{file}"
            );
            // Headers by any letter case, as Graph writes them.
            for (name, value) in item["headers"].as_object().into_iter().flatten() {
                assert_eq!(
                    got.header(&name.to_uppercase()),
                    value.as_str(),
                    "{file}: {name}"
                );
                assert_eq!(
                    got.header(&name.to_lowercase()),
                    value.as_str(),
                    "{file}: {name}"
                );
            }
            // No body, or `"body": null`: nothing to read, nothing broken.
            assert_eq!(
                got.body,
                item.get("body").cloned().unwrap_or(Value::Null),
                "{file}"
            );
            match got.status {
                200..=299 => {
                    if !got.body.is_null() {
                        got.json::<Value>()
                            .unwrap_or_else(|e| panic!("{file} {}: {e}", got.id));
                    }
                }
                _ if item["body"]["error"].is_object() => {
                    let (code, message, _) = published_error(&item["body"]);
                    match got.json::<Value>().unwrap_err() {
                        Error::Graph {
                            status,
                            code: c,
                            message: m,
                        } => {
                            assert_eq!(status, got.status, "{file} {}", got.id);
                            // An empty code (Planner's) is no code.
                            assert_eq!(c, code, "{file} {}", got.id);
                            assert_eq!(m, message, "{file} {}", got.id);
                        }
                        other => panic!("{file} {}: {other:?}", got.id),
                    }
                }
                _ => {
                    // A 302 without a body: still an error to whoever wanted a body.
                    assert!(got.json::<Value>().is_err(), "{file} {}", got.id);
                }
            }
        }
        let ids: Vec<&str> = read.iter().map(|r| r.id.as_str()).collect();
        let published_ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(ids, published_ids, "{file}: in the order written");
    }
}

#[test]
fn a_redirect_inside_a_batch_keeps_its_lowercase_location() {
    let body = read("batch-response-3.json");
    let read = parse_batch_answer(&body).unwrap();
    let redirect = read
        .iter()
        .find(|r| r.status == 302)
        .expect("the published 302");
    assert!(redirect.header("Location").unwrap().starts_with("https://"));
}

/// Graph's photo metadata of someone without a photo says a 1 x 1 GIF:
/// such a picture is "no photo" (initials), any other size is a photo.
#[test]
fn the_published_placeholder_photo_is_no_photo() {
    let published = answers(&["GET /me/photo", "GET /teams/{id}/photo"]);
    assert!(published.len() >= 3);
    let mut placeholders = 0;
    for (file, body) in published {
        let meta: Value = serde_json::from_slice(&body).unwrap();
        let (w, h) = (
            meta["width"].as_u64().unwrap(),
            meta["height"].as_u64().unwrap(),
        );
        let is_gif = meta["@odata.mediaContentType"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("image/gif"));
        // A GIF of the published size, as the `$value` answer would carry it.
        let mut gif = b"GIF89a".to_vec();
        gif.extend_from_slice(&(w as u16).to_le_bytes());
        gif.extend_from_slice(&(h as u16).to_le_bytes());
        gif.extend_from_slice(b"\x80\x00\x00\x00\x00\x00\xff\xff\xff\x3b");
        assert_eq!(is_placeholder(&gif), w <= 1 && h <= 1, "{file}");
        if is_gif && w == 1 && h == 1 {
            placeholders += 1;
            assert_eq!(meta["@odata.mediaEtag"].as_str(), Some(""), "{file}");
        }
    }
    assert_eq!(placeholders, 1, "the published no-photo answer");
}
