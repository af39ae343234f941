//! Property tests of every parser of outside input in presently-core: what
//! Graph answers (presence, `$batch`, error bodies, `Retry-After`), the files
//! people edit (`roster.toml`, `config.toml`, `watch --ids-file`), and the
//! values given on the command line.
//!
//! The properties: no input makes a parser panic; what parses, prints and
//! parses again is equal; a presence answer changes nothing it should not.
//! The generators mix the real shapes with hostile values (wrong types, huge
//! and negative numbers, control and bidi characters, quotes, `]]`, `#`,
//! very long strings), not only random bytes.
//!
//! Cases per property: `PROPTEST_CASES` when set, else a small default so that
//! `make test` spends seconds here. The long run is
//! `PROPTEST_CASES=100000 cargo test -p presently-core --test properties --release`.
//! A failure found by proptest is saved in `tests/regressions/properties.txt`
//! and replayed first by every later run. Each bug the properties found has
//! been fixed and is also kept as a named regression test at the end of this
//! file; no test here is ignored, and no generator steers around a known bug.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use presently_core::auth::SignInFlow;
use presently_core::calendar::zones::Zone;
use presently_core::calendar::{
    parse_answer as parse_calendar_answer, ReadWindow, Schedule, ShowAs, Span, UnreadableSchedule,
    WorkingHours,
};
use presently_core::cloud::Cloud;
use presently_core::config::{
    interval_from_secs, parse_service_url, validate_client_id, validate_tenant, ConfigFile,
    Overrides, Settings, CONFIG_FILE, MIN_INTERVAL,
};
use presently_core::config::{QuietHoursSetting, SettingsChange};
use presently_core::directory::{initials, Directory};
use presently_core::engine::{EngineEvent, IdProblem, LastSeen, PresenceChange};
use presently_core::graph::{
    parse_batch_answer, parse_error_body, parse_retry_after, BatchResponse, GraphClient,
};
use presently_core::presence::{
    is_user_id, normalize_user_id, parse_presence, parse_presences, Activity, Availability,
    OutOfOffice, Presence, WorkLocation,
};
use presently_core::roster::{Roster, Teammate, ROSTER_FILE};
use presently_core::text::is_unsafe;
use presently_core::token_store::{load_split, save_split, MemoryStore, TokenStore};
use presently_core::watch::{clean_text, ids_from_file, parse_ids, Printer};
use presently_core::{Error, Secret};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Value};

mod common;
use common::FixedToken;

// ------------------------------------------------------------------ set-up

/// `cases` per property unless `PROPTEST_CASES` says otherwise. Setting
/// `cases` here would override proptest's own reading of the variable, so it
/// is read here too.
fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/regressions/properties.txt",
        ))),
        ..ProptestConfig::default()
    }
}

/// Cases for properties that are pure computation.
const FAST: u32 = 256;
/// Cases for properties that write files (each a tempdir, some an fsync).
const FILES: u32 = 64;

/// Pieces that break parsers and printers: quotes and escapes of JSON and
/// TOML, TOML's table brackets and comments, line ends, terminal escapes,
/// bidi overrides, a BOM, characters that change length when their case
/// changes, and the edges of Unicode.
const NASTY: &[&str] = &[
    "\"",
    "'",
    "\\",
    "\\u0000",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\0",
    "\u{1b}[2J",
    "\u{1b}]0;x\u{7}",
    "\u{7f}",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{202e}",
    "\u{2066}",
    "\u{feff}",
    "\u{fffd}",
    "\u{10ffff}",
    "]]",
    "[[",
    "[",
    "]",
    "#",
    "=",
    ",",
    ".",
    " ",
    "\"\"\"",
    "'''",
    "{",
    "}",
    "${x}",
    "%00",
    "%2F",
    "/",
    "@",
    "é",
    "𝄞",
    "İ",
    "ß",
    "Σ",
    "ﬃ",
    "a",
    "Z",
    "0",
    "-",
    "1e999",
    "-0",
    "nan",
    "inf",
    "true",
    "null",
];

fn nasty_concat() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(NASTY), 0..10).prop_map(|v| v.concat())
}

/// Any text, weighted towards what hurts.
fn hostile_string() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "(?s).{0,24}",
        3 => prop::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        3 => nasty_concat(),
        // Long runs, of opening brackets too (see
        // `deeply_nested_toml_is_refused_without_overflowing_the_stack`).
        1 => (0usize..4_000, prop::sample::select(NASTY))
            .prop_map(|(n, s)| s.repeat(n / s.len().max(1))),
    ]
    .boxed()
}

/// A GUID in the hyphenated form, in a random mix of letter cases.
fn guid() -> impl Strategy<Value = String> {
    (any::<u128>(), any::<u64>()).prop_map(|(n, case)| {
        let lower = format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            n >> 96,
            (n >> 80) & 0xffff,
            (n >> 64) & 0xffff,
            (n >> 48) & 0xffff,
            n & 0xffff_ffff_ffff
        );
        lower
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if case >> (i % 64) & 1 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    })
}

fn json_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(serde_json::Number::from_f64(f).map_or(f64::MAX, |_| f))),
        hostile_string().prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
fn json_any() -> BoxedStrategy<Value> {
    json_leaf()
        .prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map(hostile_string(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
        .boxed()
}

/// A field of a JSON object: usually of the right shape, sometimes missing,
/// `null`, or any value at all.
fn field(right: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        4 => right.prop_map(Some),
        1 => Just(None),
        1 => Just(Some(Value::Null)),
        1 => json_any().prop_map(Some),
    ]
    .boxed()
}

/// `v` with fields the parser does not know, where they do not replace one
/// it reads.
fn with_unknown_fields(mut v: Value, extra: std::collections::BTreeMap<String, Value>) -> Value {
    for (k, x) in extra {
        v.as_object_mut().unwrap().entry(k).or_insert(x);
    }
    v
}

fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect(),
    )
}

/// Hostile fragments of JSON text: numbers no type holds, lone surrogates,
/// deep nesting, truncation.
const JSON_POISON: &[&str] = &[
    "1e999",
    "-1e999",
    "99999999999999999999999999999",
    "-0",
    "\"\\ud800\"",
    "\"\\udfff\\ud800\"",
    "\u{feff}",
    "\0",
    "NaN",
    "]",
    "}",
    ",",
    ":",
    "\"",
    "{\"value\":",
];

/// JSON text: the shaped value printed, then perhaps spliced with poison or
/// cut short, or buried in nesting deeper than any parser should follow.
fn json_text(shaped: BoxedStrategy<Value>) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        4 => shaped.clone().prop_map(|v| v.to_string().into_bytes()),
        2 => (shaped.clone(), any::<prop::sample::Index>(), prop::sample::select(JSON_POISON))
            .prop_map(|(v, at, poison)| {
                let mut text = v.to_string().into_bytes();
                let i = at.index(text.len() + 1);
                text.splice(i..i, poison.bytes());
                text
            }),
        1 => (shaped, any::<prop::sample::Index>()).prop_map(|(v, at)| {
            let text = v.to_string().into_bytes();
            let i = at.index(text.len() + 1);
            text[..i].to_vec()
        }),
        1 => (1usize..5000).prop_map(|depth| {
            let mut t = "{\"value\":".to_string();
            t.push_str(&"[".repeat(depth));
            t.push_str(&"]".repeat(depth));
            t.push('}');
            t.into_bytes()
        }),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
    .boxed()
}

// ---------------------------------------------------------- presence answers

/// Graph's spellings in any case, newer values, and hostile text.
fn enum_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "Available", "AvailableIdle", "Away", "BeRightBack", "Busy", "BusyIdle",
            "DoNotDisturb", "Offline", "PresenceUnknown", "InACall", "InAConferenceCall",
            "Inactive", "InAMeeting", "OffWork", "OutOfOffice", "Presenting",
            "UrgentInterruptionsOnly", "focusing", "inAWorkshop",
        ])
        .prop_flat_map(|s| {
            (Just(s), any::<u64>()).prop_map(|(s, case)| {
                s.chars()
                    .enumerate()
                    .map(|(i, c)| match case >> (i % 64) & 3 {
                        0 => c.to_ascii_uppercase(),
                        1 => c.to_ascii_lowercase(),
                        _ => c,
                    })
                    .collect()
            })
        }),
        2 => hostile_string(),
    ]
    .boxed()
}

fn str_value(s: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    s.prop_map(Value::String).boxed()
}

/// One entry of `value`, shaped like Graph's and spoiled at random.
fn wire_presence() -> BoxedStrategy<Value> {
    let id = str_value(prop_oneof![3 => guid(), 1 => hostile_string()]);
    let status = (field(str_value(hostile_string())), field(str_value(hostile_string())))
        .prop_map(|(content, kind)| {
            json!({ "message": object(vec![("content", content), ("contentType", kind)]) })
        })
        .boxed();
    let ooo = (
        field(any::<bool>().prop_map(Value::Bool).boxed()),
        field(str_value(hostile_string())),
    )
        .prop_map(|(is, m)| object(vec![("isOutOfOffice", is), ("message", m)]))
        .boxed();
    let location = (
        field(str_value(hostile_string())),
        field(str_value(hostile_string())),
        field(str_value(hostile_string())),
    )
        .prop_map(|(t, s, p)| object(vec![("workLocationType", t), ("source", s), ("placeId", p)]))
        .boxed();
    (
        field(id),
        field(str_value(enum_text())),
        field(str_value(enum_text())),
        field(status),
        field(ooo),
        field(str_value(hostile_string())),
        field(location),
        prop::collection::btree_map(hostile_string(), json_any(), 0..3),
    )
        .prop_map(|(id, a, act, st, o, seq, loc, extra)| {
            with_unknown_fields(
                object(vec![
                    ("id", id),
                    ("availability", a),
                    ("activity", act),
                    ("statusMessage", st),
                    ("outOfOfficeSettings", o),
                    ("sequenceNumber", seq),
                    ("workLocation", loc),
                ]),
                extra,
            )
        })
        .boxed()
}

fn wire_answer() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => prop::collection::vec(wire_presence(), 0..6)
            .prop_map(|v| json!({"@odata.context": "x", "value": v})),
        1 => json_any().prop_map(|v| json!({ "value": v })),
        1 => json_any(),
    ]
    .boxed()
}

/// True when `v` keeps the promise the parser holds Graph to: an object with
/// a `value` array of objects, each with a string `id`, whose nested
/// structures are objects (or null) too.
fn keeps_the_promise(v: &Value) -> bool {
    let object_or_null = |x: Option<&Value>| x.is_none_or(|x| x.is_object() || x.is_null());
    v.get("value").and_then(Value::as_array).is_some_and(|a| {
        a.iter().all(|p| {
            p.get("id").is_some_and(Value::is_string)
                && ["statusMessage", "outOfOfficeSettings", "workLocation"]
                    .iter()
                    .all(|k| object_or_null(p.get(k)))
                && object_or_null(p.pointer("/statusMessage/message"))
        })
    })
}

/// A presence as Graph means it, before it is written as JSON.
#[derive(Debug, Clone)]
struct Model {
    id: String,
    availability: Option<String>,
    activity: Option<String>,
    note: Option<Option<String>>,
    ooo: Option<(Option<bool>, Option<String>)>,
    seq: Option<String>,
    location: Option<(Option<String>, Option<String>, Option<String>)>,
}

fn model() -> impl Strategy<Value = Model> {
    let text = || prop::option::of(hostile_string());
    (
        guid(),
        prop::option::of(enum_text()),
        prop::option::of(enum_text()),
        prop::option::of(text()),
        prop::option::of((prop::option::of(any::<bool>()), text())),
        text(),
        prop::option::of((text(), text(), text())),
    )
        .prop_map(
            |(id, availability, activity, note, ooo, seq, location)| Model {
                id,
                availability,
                activity,
                note,
                ooo,
                seq,
                location,
            },
        )
}

impl Model {
    /// Graph's JSON for it.
    fn wire(&self) -> Value {
        let opt = |s: &Option<String>| s.as_ref().map(|s| json!(s)).unwrap_or(Value::Null);
        json!({
            "id": self.id,
            "availability": opt(&self.availability),
            "activity": opt(&self.activity),
            "statusMessage": self.note.as_ref().map(|n| json!({
                "message": {"content": opt(n), "contentType": "text"},
                "expiryDateTime": null,
            })),
            "outOfOfficeSettings": self.ooo.as_ref().map(|(is, m)| json!({
                "isOutOfOffice": is, "message": opt(m),
            })),
            "sequenceNumber": opt(&self.seq),
            "workLocation": self.location.as_ref().map(|(t, s, p)| json!({
                "workLocationType": opt(t), "source": opt(s), "placeId": opt(p),
            })),
        })
    }

    /// What the module documentation says the parser makes of it.
    fn expected(&self) -> Presence {
        let blank = |s: &Option<String>| s.clone().filter(|s| !s.trim().is_empty());
        Presence {
            id: self.id.to_ascii_lowercase(),
            availability: self
                .availability
                .as_deref()
                .map_or(Availability::PresenceUnknown, Availability::parse),
            activity: self
                .activity
                .as_deref()
                .map_or(Activity::PresenceUnknown, Activity::parse),
            status_message: self.note.as_ref().and_then(blank),
            out_of_office: self.ooo.as_ref().and_then(|(is, m)| {
                let is = is.unwrap_or(false);
                let message = blank(m);
                (is || message.is_some()).then_some(OutOfOffice {
                    is_out_of_office: is,
                    message,
                })
            }),
            sequence_number: self.seq.clone().filter(|s| !s.is_empty()),
            work_location: self.location.as_ref().map(|(t, s, p)| WorkLocation {
                work_location_type: t.clone(),
                source: s.clone(),
                place_id: p.clone(),
            }),
        }
    }
}

proptest! {
    #![proptest_config(config(FAST))]

    /// Any bytes: an answer or `Malformed`, never a panic.
    #[test]
    fn presence_answers_never_panic(body in json_text(wire_answer())) {
        match parse_presences(&body) {
            Ok(presences) => {
                // serde_json skips the fields a type ignores without checking
                // them (bad UTF-8 or escapes in an unknown field pass): the
                // promise is about the fields that are read.
                let v: Value = serde_json::from_slice(&body)
                    .or_else(|_| serde_json::from_slice(String::from_utf8_lossy(&body).as_bytes()))
                    .unwrap_or(Value::Null);
                if !v.is_null() {
                    prop_assert!(keeps_the_promise(&v), "took {v}");
                    prop_assert_eq!(presences.len(), v["value"].as_array().unwrap().len());
                }
                for p in &presences {
                    prop_assert!(!p.id.bytes().any(|b| b.is_ascii_uppercase()), "{}", p.id);
                    prop_assert!(p.sequence_number.as_deref() != Some(""));
                    prop_assert!(p.status_message.as_deref().is_none_or(|m| !m.trim().is_empty()));
                }
            }
            Err(e) => prop_assert!(matches!(e, Error::Malformed(_)), "{e:?}"),
        }
    }

    /// The same for `GET /me/presence`, one object.
    #[test]
    fn my_presence_answers_never_panic(body in json_text(wire_presence())) {
        match parse_presence(&body) {
            Ok(p) => prop_assert!(!p.id.bytes().any(|b| b.is_ascii_uppercase())),
            Err(e) => prop_assert!(matches!(e, Error::Malformed(_)), "{e:?}"),
        }
    }

    /// A well-formed answer parses to exactly what the documentation says:
    /// IDs lower-case, blank notes none, "not out of office, no message"
    /// none, empty stamps none, unknown values kept.
    #[test]
    fn well_formed_answers_parse_as_documented(models in prop::collection::vec(model(), 0..6)) {
        let body = json!({ "value": models.iter().map(Model::wire).collect::<Vec<_>>() });
        let parsed = parse_presences(body.to_string().as_bytes()).unwrap();
        let expected: Vec<Presence> = models.iter().map(Model::expected).collect();
        prop_assert_eq!(&parsed, &expected);
        if let Some(m) = models.first() {
            prop_assert_eq!(parse_presence(m.wire().to_string().as_bytes()).unwrap(), m.expected());
        }
    }

    /// `Presence`'s own JSON (serde) prints and parses back equal.
    #[test]
    fn presences_round_trip_through_their_json(m in model()) {
        let p = m.expected();
        let text = serde_json::to_string(&p).unwrap();
        let back: Presence = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(back, p);
    }

    /// Parsing an enum never fails, and what it prints parses to the same
    /// value; labels carry no control or bidi characters.
    #[test]
    fn availability_and_activity_print_and_parse_back(raw in enum_text()) {
        let a = Availability::parse(&raw);
        prop_assert_eq!(Availability::parse(a.as_str()), a.clone());
        let act = Activity::parse(&raw);
        prop_assert_eq!(Activity::parse(act.as_str()), act.clone());
        for label in [a.label(), act.label()] {
            prop_assert!(!label.chars().any(is_unsafe_char), "{label:?}");
        }
    }

    /// `normalize_user_id`: never panics, idempotent, and `Some` exactly for
    /// a trimmed GUID.
    #[test]
    fn normalize_user_id_is_idempotent(
        raw in prop_oneof![
            guid(),
            (nasty_concat(), guid(), nasty_concat()).prop_map(|(a, g, b)| format!("{a}{g}{b}")),
            hostile_string(),
        ]
    ) {
        let once = normalize_user_id(&raw);
        prop_assert_eq!(once.is_some(), is_user_id(raw.trim()));
        if let Some(id) = &once {
            prop_assert_eq!(id.len(), 36);
            prop_assert_eq!(id, &id.to_ascii_lowercase());
            prop_assert_eq!(normalize_user_id(id), Some(id.clone()));
        }
    }
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

// ------------------------------------------------ LastSeen: what an answer changes

const STATES: &[(&str, &str)] = &[
    ("Available", "Available"),
    ("Busy", "InAMeeting"),
    ("Away", "Away"),
    ("Offline", "OffWork"),
    ("PresenceUnknown", "PresenceUnknown"),
];

/// A presence for one of `ids`, from a few states and stamps, so that
/// repeats, equal stamps and older stamps all happen.
fn answer_entry(ids: Vec<String>) -> impl Strategy<Value = Presence> {
    (
        prop::sample::select(ids),
        prop::sample::select(STATES),
        prop::option::of(prop::sample::select(vec!["note", " "])),
        any::<bool>(),
        prop::option::of(0u32..20),
    )
        .prop_map(|(id, (a, act), note, ooo, seq)| Presence {
            id,
            availability: Availability::parse(a),
            activity: Activity::parse(act),
            status_message: note.map(str::to_string),
            out_of_office: ooo.then_some(OutOfOffice {
                is_out_of_office: true,
                message: None,
            }),
            sequence_number: seq.map(|n| format!("{n:05}")),
            work_location: None,
        })
}

/// One poll: the distinct IDs asked for (a subset of the roster, in any
/// order) and Graph's answer (about anyone, repeats allowed).
#[derive(Debug, Clone)]
struct Poll {
    asked: Vec<String>,
    answer: Vec<Presence>,
}

fn polls() -> impl Strategy<Value = (Vec<String>, Vec<Poll>)> {
    prop::collection::hash_set(guid().prop_map(|g| g.to_ascii_lowercase()), 1..6).prop_flat_map(
        |ids| {
            let ids: Vec<String> = ids.into_iter().collect();
            // Someone nobody asked about answers too.
            let mut anyone = ids.clone();
            anyone.push("00000000-0000-4000-8000-00000000dead".into());
            let poll = (
                prop::sample::subsequence(ids.clone(), 0..=ids.len()).prop_shuffle(),
                prop::collection::vec(answer_entry(anyone), 0..8),
            )
                .prop_map(|(asked, answer)| Poll { asked, answer });
            (Just(ids), prop::collection::vec(poll, 1..6))
        },
    )
}

fn at(step: usize) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + 15 * step as i64, 0).unwrap()
}

fn snapshot(seen: &LastSeen, ids: &[String]) -> Vec<Option<Presence>> {
    ids.iter().map(|id| seen.get(id).cloned()).collect()
}

/// The newest entry for `id` in `answer` (the later of equals), as
/// `LastSeen::apply` documents: "keep the newer of the two".
fn newest_for(answer: &[Presence], id: &str) -> Option<Presence> {
    answer
        .iter()
        .filter(|p| p.id == id)
        .fold(None, |kept, p| match kept {
            Some(k) if p.is_older_than(&k) => Some(k),
            _ => Some(p.clone()),
        })
}

proptest! {
    #![proptest_config(config(FAST))]

    /// Every apply, step by step, against the documented rule: a teammate not
    /// asked about is untouched and nobody unasked is added; an asked ID
    /// missing from the answer becomes unknown; a stale entry changes nothing;
    /// a change is reported exactly when people would see one, with what was
    /// shown before and since when.
    #[test]
    fn an_answer_changes_only_what_it_should((roster, polls) in polls()) {
        let mut seen = LastSeen::new();
        let mut since: HashMap<String, DateTime<Utc>> = HashMap::new();
        for (step, poll) in polls.iter().enumerate() {
            let before = snapshot(&seen, &roster);
            let changes = seen.apply(&poll.asked, poll.answer.clone(), at(step));
            let after = snapshot(&seen, &roster);
            prop_assert!(!seen.contains("00000000-0000-4000-8000-00000000dead"));
            prop_assert!(seen.len() <= roster.len());

            let mut expected_changes = Vec::new();
            for (i, id) in roster.iter().enumerate() {
                let held = &before[i];
                if !poll.asked.contains(id) {
                    prop_assert_eq!(&after[i], held, "{} was not asked", id);
                    continue;
                }
                let new = newest_for(&poll.answer, id).unwrap_or_else(|| Presence::unknown(id));
                let now = after[i].clone().expect("everyone asked is held");
                match held {
                    Some(old) if new.is_older_than(old) => {
                        prop_assert_eq!(&now, old, "a stale entry for {} was taken", id);
                    }
                    Some(old) => {
                        prop_assert_eq!(&now, &new);
                        if new.differs_from(old) {
                            expected_changes.push((id.clone(), Some(old.clone())));
                        }
                    }
                    None => {
                        prop_assert_eq!(&now, &new);
                        expected_changes.push((id.clone(), None));
                    }
                }
            }
            // One change per teammate, in the order asked.
            expected_changes.sort_by_key(|(id, _)| poll.asked.iter().position(|a| a == id));
            prop_assert_eq!(changes.len(), expected_changes.len(), "{:?}", changes);
            for (c, (id, previous)) in changes.iter().zip(&expected_changes) {
                prop_assert_eq!(&c.id, id);
                prop_assert_eq!(&c.previous, previous);
                prop_assert_eq!(Some(&c.presence), seen.get(id));
                prop_assert_eq!(c.at, at(step));
                prop_assert_eq!(c.previous_since, previous.as_ref().map(|_| since[id]));
                since.insert(id.clone(), at(step));
            }
        }
    }

    /// An answer that only repeats what is held (same presence, same or newer
    /// stamps) yields no change, and applying it twice is applying it once.
    #[test]
    fn a_repeated_answer_is_no_change((roster, polls) in polls()) {
        let mut seen = LastSeen::new();
        for (step, poll) in polls.iter().enumerate() {
            seen.apply(&poll.asked, poll.answer.clone(), at(2 * step));
            let held = snapshot(&seen, &roster);
            let again = seen.apply(&poll.asked, poll.answer.clone(), at(2 * step + 1));
            prop_assert!(again.is_empty(), "{:?}", again);
            prop_assert_eq!(snapshot(&seen, &roster), held);
        }
    }

    /// With stamps held for everyone, an answer whose every entry is older
    /// changes nothing at all, whatever it says.
    #[test]
    fn stale_answers_change_nothing(
        (roster, polls) in polls(),
        stale in prop::collection::vec((prop::sample::select(STATES), 0u32..20), 1..10),
    ) {
        let mut seen = LastSeen::new();
        let fresh: Vec<Presence> = roster
            .iter()
            .map(|id| Presence {
                sequence_number: Some("00020".into()),
                ..Presence::unknown(id)
            })
            .collect();
        seen.apply(&roster, fresh, at(0));
        for (step, poll) in polls.iter().enumerate() {
            let held = snapshot(&seen, &roster);
            // Everyone asked is answered, and only with older stamps.
            let answer: Vec<Presence> = poll
                .asked
                .iter()
                .zip(stale.iter().cycle())
                .map(|(id, ((a, act), n))| Presence {
                    availability: Availability::parse(a),
                    activity: Activity::parse(act),
                    status_message: Some("stale".into()),
                    sequence_number: Some(format!("{n:05}")),
                    ..Presence::unknown(id)
                })
                .collect();
            let changes = seen.apply(&poll.asked, answer, at(step + 1));
            prop_assert!(changes.is_empty(), "{:?}", changes);
            prop_assert_eq!(snapshot(&seen, &roster), held);
        }
    }
}

proptest! {
    // Several bodies a case, each parsed and applied: fewer cases.
    #![proptest_config(config(FILES))]

    /// Parsed answers in the engine's hands: whatever Graph sends, only the
    /// asked IDs are held afterwards, each once.
    #[test]
    fn parsed_answers_hold_only_asked_ids(
        asked in prop::collection::hash_set(guid().prop_map(|g| g.to_ascii_lowercase()), 0..5),
        bodies in prop::collection::vec(json_text(wire_answer()), 1..3),
    ) {
        let asked: Vec<String> = asked.into_iter().collect();
        let mut seen = LastSeen::new();
        for (step, body) in bodies.iter().enumerate() {
            let Ok(answer) = parse_presences(body) else { continue };
            let changes: Vec<PresenceChange> = seen.apply(&asked, answer, at(step));
            prop_assert_eq!(seen.len(), asked.len());
            let ids: HashSet<&String> = changes.iter().map(|c| &c.id).collect();
            prop_assert_eq!(ids.len(), changes.len());
            prop_assert!(changes.iter().all(|c| asked.contains(&c.id)));
        }
    }
}

// ----------------------------------------------------------- $batch answers

fn wire_batch_response() -> BoxedStrategy<Value> {
    let status = prop_oneof![
        4 => prop::sample::select(vec![200u64, 204, 400, 401, 403, 404, 429, 500, 503, 504])
            .prop_map(Value::from),
        2 => (0u64..70_000).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => json_any(),
    ]
    .boxed();
    let headers = prop::collection::btree_map(
        prop_oneof![
            Just("Retry-After".to_string()),
            Just("retry-after".to_string()),
            Just("Content-Type".to_string()),
            hostile_string(),
        ],
        prop_oneof![3 => str_value(retry_after_text()), 1 => json_any()],
        0..4,
    )
    .prop_map(|m| Value::Object(m.into_iter().collect()))
    .boxed();
    let error = (field(str_value(hostile_string())), field(str_value(hostile_string())))
        .prop_map(|(code, message)| {
            json!({ "error": object(vec![("code", code), ("message", message)]) })
        })
        .boxed();
    let body = prop_oneof![2 => error, 1 => json_any()].boxed();
    (
        field(str_value(hostile_string())),
        field(status),
        field(headers),
        field(body),
    )
        .prop_map(|(id, status, headers, body)| {
            object(vec![
                ("id", id),
                ("status", status),
                ("headers", headers),
                ("body", body),
            ])
        })
        .boxed()
}

proptest! {
    #![proptest_config(config(FAST))]

    /// A `$batch` answer parses or is refused as Malformed, never panics,
    /// and only an object with a `responses` array of objects parses; every
    /// response that parses answers `header` and `json` without panicking: a 2xx gives
    /// its body, anything else a Graph error with its status and a message
    /// of at most 300 characters (and "...").
    #[test]
    fn batch_answers_never_panic(
        body in json_text(
            prop_oneof![
                4 => prop::collection::vec(wire_batch_response(), 0..5)
                    .prop_map(|r| json!({ "responses": r })),
                1 => json_any(),
            ]
            .boxed()
        )
    ) {
        let responses = match parse_batch_answer(&body) {
            Ok(responses) => responses,
            Err(e) => {
                prop_assert!(matches!(e, Error::Malformed(_)), "{e:?}");
                return Ok(());
            }
        };
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            let listed = v["responses"].as_array();
            prop_assert!(listed.is_some_and(|l| l.iter().all(Value::is_object)), "took {v}");
            prop_assert_eq!(listed.map_or(0, Vec::len), responses.len());
        }
        let now = SystemTime::now();
        for r in &responses {
            if let Some(wait) = r.header("Retry-After").and_then(|v| parse_retry_after(v, now)) {
                prop_assert!(wait <= Duration::from_secs(3600));
            }
            match r.json::<Value>() {
                Ok(v) => {
                    prop_assert!((200..300).contains(&r.status));
                    prop_assert_eq!(&v, &r.body);
                }
                Err(Error::Graph { status, code, message }) => {
                    prop_assert!(!(200..300).contains(&r.status));
                    prop_assert_eq!(status, r.status);
                    prop_assert!(message.chars().count() <= 303, "{}", message.len());
                    prop_assert!(!message.trim().is_empty());
                    let given = r.body.pointer("/error/message").and_then(Value::as_str);
                    // A message of nothing but spaces and control
                    // characters is no message, and its body no error body.
                    let words = |m: &str| m.chars().any(|c| !c.is_whitespace() && !is_unsafe(c));
                    if given.is_some_and(words) {
                        let given_code = r.body.pointer("/error/code").and_then(Value::as_str);
                        prop_assert_eq!(code.as_str(), given_code.unwrap_or(""));
                    }
                }
                // A 2xx without an object for a body (none at all, an
                // array) is not what Graph promises for our requests.
                Err(Error::Malformed(_)) => {
                    prop_assert!((200..300).contains(&r.status) && !r.body.is_object(), "{:?}", r.body);
                }
                Err(other) => prop_assert!(false, "unexpected error {other:?}"),
            }
        }
    }

    /// A `$batch` response printed as Graph writes it parses back equal.
    #[test]
    fn batch_responses_round_trip(
        id in hostile_string(),
        status in any::<u16>(),
        headers in prop::collection::btree_map(hostile_string(), hostile_string(), 0..4),
        body in json_any(),
    ) {
        let text = json!({ "id": id, "status": status, "headers": headers, "body": body });
        let r: BatchResponse = serde_json::from_str(&text.to_string()).unwrap();
        prop_assert_eq!(&r.id, &id);
        prop_assert_eq!(r.status, status);
        prop_assert_eq!(&r.headers, &headers);
        // What serde_json itself reads back from the printed body: without its
        // `float_roundtrip` feature the last digit of a float may move.
        let reread: Value = serde_json::from_str(&body.to_string()).unwrap();
        prop_assert_eq!(&r.body, &reread);
        for (k, v) in &headers {
            // A header is found by any case of its name (the first match).
            let found = r.header(&k.to_ascii_uppercase()).unwrap();
            let namesakes = headers.keys().filter(|o| o.eq_ignore_ascii_case(k)).count();
            prop_assert!(found == v.as_str() || namesakes > 1);
        }
    }
}

// --------------------------------------------- token and device code answers

// The `oauth2` crate parses these answers, over Presently's own HTTP client
// (`auth::oauth::Http`), and Presently bounds and words what it parsed. Both
// are reached the way a sign-in reaches them: `SignInFlow::start` and `wait`
// against a sign-in service on loopback that gives the generated answer.

/// Cases for properties that sign in over loopback (an HTTP client each).
const SIGN_IN: u32 = 48;

/// A server on loopback that answers every request whose path ends with one
/// of the given endings with that ending's status and JSON body, and any
/// other request with 404.
struct CannedService {
    url: String,
}

type Canned = (&'static str, u16, Vec<u8>);

impl CannedService {
    /// The sign-in service: its `/devicecode` and `/token` answers.
    async fn sign_in(devicecode: (u16, Vec<u8>), token: (u16, Vec<u8>)) -> CannedService {
        CannedService::start(vec![
            ("/devicecode", devicecode.0, devicecode.1),
            ("/token", token.0, token.1),
        ])
        .await
    }

    async fn start(answers: Vec<Canned>) -> CannedService {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
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
                let text = String::from_utf8_lossy(&head);
                let target = text.split_whitespace().nth(1).unwrap_or("");
                let path = target.split('?').next().unwrap_or("");
                let (status, body) = answers
                    .iter()
                    .find(|(ending, _, _)| path.ends_with(ending))
                    .map_or((404, Vec::new()), |(_, status, body)| {
                        (*status, body.clone())
                    });
                let head = format!(
                    "HTTP/1.1 {status} Canned\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(&body).await;
                let _ = conn.shutdown().await;
            }
        });
        CannedService { url }
    }

    fn settings(&self, dir: &std::path::Path) -> Settings {
        Settings::resolve(&Overrides {
            login_url: Some(self.url.clone()),
            graph_url: Some(self.url.clone()),
            config_dir: Some(dir.to_path_buf()),
            ..Default::default()
        })
        .unwrap()
    }
}

/// A sign-in flow against a [`CannedService`] with these answers.
async fn canned_flow(
    dir: &std::path::Path,
    devicecode: (u16, Vec<u8>),
    token: (u16, Vec<u8>),
) -> SignInFlow {
    let service = CannedService::sign_in(devicecode, token).await;
    SignInFlow::new(&service.settings(dir)).unwrap()
}

/// Runs `f` on a runtime of its own, as each proptest case is synchronous.
fn on_runtime<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// A seconds field as servers may send it: in range, the edges of `u64`,
/// negative, fractional, huge, a string, or anything.
fn seconds_value() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (0u64..100_000).prop_map(Value::from),
        1 => prop::sample::select(vec![0u64, 1, u64::MAX, u64::MAX - 1, 1 << 53]).prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| json!(serde_json::Number::from_f64(f).map_or(-1.5, |_| f))),
        1 => prop_oneof![Just("3600".to_string()), Just("soon".to_string()), hostile_string()]
            .prop_map(Value::String),
        1 => json_any(),
    ]
    .boxed()
}

/// A well-formed device code answer with this lifetime and interval.
fn device_code_body(expires_in: Value, interval: Value) -> Value {
    json!({
        "device_code": "DAQABAAEAAAD",
        "user_code": "F7KQ2XW9P",
        "verification_uri": "https://microsoft.com/devicelogin",
        "expires_in": expires_in,
        "interval": interval,
        "message": "To sign in, use a web browser to open the page https://microsoft.com/devicelogin and enter the code F7KQ2XW9P to authenticate.",
    })
}

/// A device code answer, shaped like Microsoft's and spoiled at random.
fn wire_device_code() -> BoxedStrategy<Value> {
    let text = || field(str_value(hostile_string()));
    (
        text(),
        text(),
        field(
            prop_oneof![
                2 => Just(Value::from("https://microsoft.com/devicelogin")),
                1 => str_value(url_text()),
            ]
            .boxed(),
        ),
        field(seconds_value()),
        field(seconds_value()),
        text(),
        prop::collection::btree_map(hostile_string(), json_any(), 0..3),
    )
        .prop_map(
            |(device_code, user_code, uri, expires_in, interval, message, extra)| {
                with_unknown_fields(
                    object(vec![
                        ("device_code", device_code),
                        ("user_code", user_code),
                        ("verification_uri", uri),
                        ("expires_in", expires_in),
                        ("interval", interval),
                        ("message", message),
                    ]),
                    extra,
                )
            },
        )
        .boxed()
}

/// A token answer, shaped like Microsoft's and spoiled at random.
fn wire_token() -> BoxedStrategy<Value> {
    let text = || field(str_value(hostile_string()));
    (
        field(str_value(prop_oneof![
            Just("eyJ0eXAiOiJKV1QifQ.e30.c2ln".to_string()),
            hostile_string()
        ])),
        field(str_value(prop_oneof![
            Just("Bearer".to_string()),
            Just("bearer".to_string()),
            hostile_string()
        ])),
        field(seconds_value()),
        text(),
        text(),
        prop::collection::btree_map(hostile_string(), json_any(), 0..3),
    )
        .prop_map(|(access, kind, expires_in, refresh, scope, extra)| {
            with_unknown_fields(
                object(vec![
                    ("access_token", access),
                    ("token_type", kind),
                    ("expires_in", expires_in),
                    ("refresh_token", refresh),
                    ("scope", scope),
                ]),
                extra,
            )
        })
        .boxed()
}

/// The refusals that end a sign-in (the crate polls on through
/// `authorization_pending` and `slow_down`, and Presently through
/// `temporarily_unavailable`, until the code expires).
const FINAL_REFUSALS: &[&str] = &[
    "invalid_grant",
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "invalid_scope",
    "authorization_declined",
    "access_denied",
    "expired_token",
    "bad_verification_code",
    "consent_required",
    "interaction_required",
    "server_error",
];

/// `u64` seconds as Presently takes them: clamped into `[lo, hi]`.
fn clamped_secs(v: &Value, lo: u64, hi: u64) -> Option<Duration> {
    v.as_u64().map(|n| Duration::from_secs(n.clamp(lo, hi)))
}

/// The errors a failed sign-in may end in; anything else (or a panic) is a bug.
fn is_sign_in_error(e: &Error) -> bool {
    matches!(
        e,
        Error::SignInFailed(_)
            | Error::SignInDeclined
            | Error::SignInExpired
            | Error::SignInBlocked(_)
            | Error::ConsentRequired(_)
    )
}

proptest! {
    #![proptest_config(config(SIGN_IN))]

    /// Any device code answer: a code whose lifetime and poll interval are
    /// within bounds (the server's value clamped when it is a whole number),
    /// and whose words carry no control characters; or a sign-in error.
    #[test]
    fn device_code_answers_are_bounded_or_refused(
        status in prop_oneof![4 => Just(200u16), 1 => Just(400u16)],
        body in json_text(wire_device_code()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        on_runtime(async {
            let flow = canned_flow(dir.path(), (status, body.clone()), (400, Vec::new())).await;
            match flow.start().await {
                Ok(code) => {
                    prop_assert_eq!(status, 200);
                    let (min_life, max_life) = (Duration::from_secs(60), Duration::from_secs(3600));
                    prop_assert!((min_life..=max_life).contains(&code.expires_in), "{:?}", code.expires_in);
                    prop_assert!((Duration::from_secs(1)..=Duration::from_secs(60)).contains(&code.interval));
                    if let Some(want) = clamped_secs(&sent["expires_in"], 60, 3600) {
                        prop_assert_eq!(code.expires_in, want);
                    }
                    if let Some(want) = clamped_secs(&sent["interval"], 1, 60) {
                        prop_assert_eq!(code.interval, want);
                    }
                    for words in [&code.user_code, &code.verification_uri, &code.message] {
                        prop_assert!(!words.chars().any(char::is_control), "{words:?}");
                    }
                    // Unless the server wrote its own, the message names the code.
                    prop_assert!(
                        code.message.contains(&code.user_code)
                            || sent["message"].is_string()
                            || sent.is_null()
                    );
                }
                Err(e) => prop_assert!(is_sign_in_error(&e), "{e:?}"),
            }
            Ok(())
        })?;
    }

    /// A well-formed device code answer is taken whatever its numbers say.
    #[test]
    fn device_code_seconds_are_clamped(
        expires_in in any::<u64>(),
        interval in prop_oneof![any::<u64>(), 0u64..100],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let body = device_code_body(json!(expires_in), json!(interval)).to_string().into_bytes();
        on_runtime(async {
            let flow = canned_flow(dir.path(), (200, body), (400, Vec::new())).await;
            let code = flow.start().await.unwrap();
            prop_assert_eq!(code.expires_in, Duration::from_secs(expires_in.clamp(60, 3600)));
            prop_assert_eq!(code.interval, Duration::from_secs(interval.clamp(1, 60)));
            Ok(())
        })?;
    }

    /// Any token answer: a token set whose lifetime is within a second and a
    /// day (the server's `expires_in` clamped when it is a whole number, an
    /// hour when there is none) and that expires after it was issued; or a
    /// sign-in error. Never a panic, whatever `expires_in` holds.
    #[test]
    fn token_answers_are_bounded_or_refused(body in json_text(wire_token())) {
        let dir = tempfile::tempdir().unwrap();
        let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let code = device_code_body(json!(900), json!(1)).to_string().into_bytes();
        on_runtime(async {
            let flow = canned_flow(dir.path(), (200, code), (200, body.clone())).await;
            let code = flow.start().await.unwrap();
            let before = Utc::now();
            match flow.wait(&code).await {
                Ok(tokens) => {
                    let (min, max) = (Duration::from_secs(1), Duration::from_secs(24 * 3600));
                    prop_assert!((min..=max).contains(&tokens.lifetime), "{:?}", tokens.lifetime);
                    prop_assert!(tokens.expires_at > before);
                    // `sent` is null when serde_json's `Value` refuses what the
                    // typed parse took (bad escapes in a field nobody reads).
                    if !sent.is_null() {
                        match &sent["expires_in"] {
                            Value::Null => prop_assert_eq!(tokens.lifetime, Duration::from_secs(3600)),
                            v => if let Some(want) = clamped_secs(v, 1, 24 * 3600) {
                                prop_assert_eq!(tokens.lifetime, want);
                            },
                        }
                        prop_assert_eq!(Some(tokens.access_token.expose()), sent["access_token"].as_str());
                    }
                }
                Err(e) => prop_assert!(is_sign_in_error(&e), "{e:?}"),
            }
            Ok(())
        })?;
    }

    /// A refusal with an `AADSTS` code, from either endpoint, is read back:
    /// Conditional Access (53000 to 53004) blocks, 65001 asks for consent,
    /// the RFC's endings are declined and expired, and every other refusal
    /// shows Microsoft's first line, code first, without control characters.
    #[test]
    fn aadsts_refusals_are_read_back(
        at_start in any::<bool>(),
        error in prop::sample::select(FINAL_REFUSALS),
        aadsts in prop_oneof![
            1 => 53000u32..53005,
            1 => Just(65001u32),
            2 => 10_000u32..1_000_000,
        ],
        text in hostile_string(),
        suberror in prop::option::of(prop::sample::select(vec!["consent_required", "message_only", "basic_action"])),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let description = format!("AADSTS{aadsts}: {text}\r\nTrace ID: 0000\r\nCorrelation ID: 1111");
        let refusal = json!({
            "error": error,
            "error_description": description,
            "suberror": suberror,
            "error_codes": [aadsts],
        })
        .to_string()
        .into_bytes();
        let code = device_code_body(json!(900), json!(1)).to_string().into_bytes();
        let answers = if at_start { ((400, refusal), (400, Vec::new())) } else { ((200, code), (400, refusal)) };
        let e = on_runtime(async {
            let flow = canned_flow(dir.path(), answers.0, answers.1).await;
            match flow.start().await {
                Ok(code) => flow.wait(&code).await.unwrap_err(),
                Err(e) => e,
            }
        });
        let said = format!("AADSTS{aadsts}");
        let blocked = (53000..=53004).contains(&aadsts);
        // The suberror counts wherever the refusal comes: at the start or
        // while the code is waited for.
        let consent = aadsts == 65001
            || error == "consent_required"
            || suberror == Some("consent_required");
        let ending = match error {
            "authorization_declined" | "access_denied" => Some(Error::SignInDeclined.code()),
            "expired_token" => Some(Error::SignInExpired.code()),
            _ => None,
        };
        match &e {
            Error::SignInDeclined | Error::SignInExpired => prop_assert_eq!(Some(e.code()), ending),
            Error::SignInBlocked(summary) => {
                prop_assert!(blocked && ending.is_none(), "{e:?}");
                prop_assert!(summary.starts_with(&said), "{summary:?}");
            }
            Error::ConsentRequired(summary) => {
                prop_assert!(consent && !blocked && ending.is_none(), "{e:?}");
                prop_assert!(summary.starts_with(&said), "{summary:?}");
            }
            Error::SignInFailed(message) => {
                prop_assert!(!blocked && !consent && ending.is_none(), "{e:?}");
                prop_assert!(message.contains(&said), "{message:?}");
            }
            other => prop_assert!(false, "unexpected {other:?}"),
        }
        let shown = e.to_string();
        prop_assert!(!shown.contains("Trace ID"), "{shown:?}");
        prop_assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }
}

// -------------------------------------------------------------- Retry-After

/// Latest `now` used: the year 9000, well inside what HTTP dates can say.
const LATEST: u64 = 221_845_392_000;

fn http_date(secs: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
}

fn retry_after_text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => any::<u64>().prop_map(|n| n.to_string()),
        2 => "[ \t]{0,2}[+-]?[0-9]{0,25}(\\.[0-9]{0,12})?([eE][+-]?[0-9]{0,4})?[ \t]{0,2}",
        1 => prop::sample::select(vec![
            "inf", "-inf", "NaN", "infinity", "-0", "-0.0", "1e308", "1e-400", "-1e-400",
            "0x10", "1_000", "Fri, 31 Dec 9999 23:59:59 GMT", "Thu, 01 Jan 1970 00:00:00 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
            "Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 29 Feb 2100 00:00:00 GMT",
            "Fri, 32 Dec 2024 25:61:61 GMT", "Sat, 01 Jan 10000 00:00:00 GMT",
        ])
        .prop_map(str::to_string),
        2 => (0..LATEST + 90_000_000).prop_map(http_date),
        3 => hostile_string(),
    ]
    .boxed()
}

fn now_strategy() -> impl Strategy<Value = SystemTime> {
    (0..LATEST, 0u32..1_000_000_000).prop_map(|(s, n)| UNIX_EPOCH + Duration::new(s, n))
}

proptest! {
    #![proptest_config(config(FAST))]

    /// Never a panic, never more than an hour.
    #[test]
    fn retry_after_never_panics_and_is_capped(value in retry_after_text(), now in now_strategy()) {
        if let Some(wait) = parse_retry_after(&value, now) {
            prop_assert!(wait <= Duration::from_secs(3600), "{value:?} gave {wait:?}");
        }
    }

    /// Whole seconds in, the same wait out (up to the hour), spaces or not.
    #[test]
    fn retry_after_seconds_round_trip(
        n in prop_oneof![0u64..7200, any::<u64>()],
        pad in "[ \t]{0,3}",
        now in now_strategy(),
    ) {
        let expected = Duration::from_secs(n.min(3600));
        prop_assert_eq!(parse_retry_after(&n.to_string(), now), Some(expected));
        prop_assert_eq!(parse_retry_after(&format!("{pad}{n}{pad}"), now), Some(expected));
    }

    /// A fraction is a fraction of a second; negatives, NaN and infinities are
    /// not waits.
    #[test]
    fn retry_after_fractions(f in any::<f64>(), now in now_strategy()) {
        let got = parse_retry_after(&f.to_string(), now);
        if f.is_finite() && f >= 0.0 {
            let want = Duration::from_secs_f64(f.min(3600.0));
            prop_assert_eq!(got, Some(want));
        } else {
            prop_assert_eq!(got, None, "{}", f);
        }
    }

    /// An HTTP date ahead gives the gap (capped at an hour), a date behind
    /// gives no wait at all.
    #[test]
    fn retry_after_dates_give_the_gap(
        now in now_strategy(),
        ahead in -7200i64..7200,
    ) {
        let base = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let at = base.saturating_add_signed(ahead);
        let date = UNIX_EPOCH + Duration::from_secs(at);
        let expected = date
            .duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(Duration::from_secs(3600));
        prop_assert_eq!(parse_retry_after(&http_date(at), now), Some(expected));
    }
}

// ------------------------------------------------------------------ TOML text

/// A TOML value of any kind (no NaN: it is not equal to itself).
fn toml_value() -> BoxedStrategy<toml::Value> {
    let date = (0u16..=9999, 1u8..=12, 1u8..=28).prop_map(|(year, month, day)| toml::value::Date {
        year,
        month,
        day,
    });
    let time = (
        0u8..24,
        0u8..60,
        0u8..60,
        prop_oneof![Just(0u32), 0u32..1_000_000_000],
    )
        .prop_map(|(hour, minute, second, nanosecond)| toml::value::Time {
            hour,
            minute,
            second: Some(second),
            nanosecond: Some(nanosecond),
        });
    let offset = prop_oneof![
        Just(toml::value::Offset::Z),
        (-1439i16..=1439).prop_map(|minutes| toml::value::Offset::Custom { minutes }),
    ];
    // The four kinds TOML has: local date, local time, local date-time,
    // offset date-time.
    let datetime = (date, time, offset, 0u8..4).prop_map(|(date, time, offset, kind)| {
        toml::Value::Datetime(match kind {
            0 => toml::value::Datetime {
                date: Some(date),
                time: None,
                offset: None,
            },
            1 => toml::value::Datetime {
                date: None,
                time: Some(time),
                offset: None,
            },
            2 => toml::value::Datetime {
                date: Some(date),
                time: Some(time),
                offset: None,
            },
            _ => toml::value::Datetime {
                date: Some(date),
                time: Some(time),
                offset: Some(offset),
            },
        })
    });
    let leaf = prop_oneof![
        3 => hostile_string().prop_map(toml::Value::String),
        2 => any::<i64>().prop_map(toml::Value::Integer),
        1 => any::<f64>()
            .prop_map(|f| toml::Value::Float(if f.is_nan() { f64::INFINITY } else { f })),
        1 => any::<bool>().prop_map(toml::Value::Boolean),
        1 => datetime,
    ];
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::btree_map(hostile_string(), inner, 0..4)
                .prop_map(|m| toml::Value::Table(m.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A key as written in a file: bare, quoted, dotted, or broken.
fn toml_key(known: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(known).prop_map(str::to_string),
        2 => "[A-Za-z0-9_-]{1,12}",
        2 => hostile_string().prop_map(|k| serde_json::to_string(&k).unwrap()),
        1 => "[A-Za-z0-9_-]{1,6}\\.[A-Za-z0-9_-]{1,6}",
        1 => hostile_string(),
    ]
    .boxed()
}

/// A value as written in a file: a valid literal of any type, or junk.
fn toml_literal() -> BoxedStrategy<String> {
    prop_oneof![
        6 => toml_value().prop_map(|v| v.to_string()),
        1 => prop::sample::select(vec![
            "99999999999999999999", "-9223372036854775809", "0x7FFFFFFFFFFFFFFF", "1e999",
            "nan", "-inf", "1979-05-27T07:32:00Z", "1979-02-30", "24:00:00", "[1, \"a\"",
            "{ a = 1, a = 2 }", "\"\"\"\n\"\"\"", "'''\r'''", "\"\\uD800\"", "\"\\U0011FFFF\"",
        ])
        .prop_map(str::to_string),
        1 => hostile_string(),
    ]
    .boxed()
}

/// A TOML-ish document: headers, `key = value` lines and junk, with either
/// line end and perhaps a BOM.
fn toml_text(
    keys: &'static [&'static str],
    headers: &'static [&'static str],
) -> BoxedStrategy<String> {
    let line = prop_oneof![
        6 => (toml_key(keys), toml_literal()).prop_map(|(k, v)| format!("{k} = {v}")),
        2 => prop::sample::select(headers).prop_map(str::to_string),
        1 => hostile_string().prop_map(|s| format!("# {s}")),
        1 => hostile_string(),
    ];
    (
        any::<bool>(),
        prop::sample::select(vec!["\n", "\r\n"]),
        prop::collection::vec(line, 0..14),
    )
        .prop_map(|(bom, end, lines)| {
            let mut text = if bom {
                "\u{feff}".to_string()
            } else {
                String::new()
            };
            text.push_str(&lines.join(end));
            text
        })
        .boxed()
}

const ROSTER_KEYS: &[&str] = &[
    "id",
    "id",
    "display_name",
    "user_principal_name",
    "mail",
    "job_title",
    "notify",
    "favorite",
    "notify_every_change",
    "group",
    "teammate",
];
const ROSTER_HEADERS: &[&str] = &[
    "[[teammate]]",
    "[[teammate]]",
    "[[teammate]]",
    "[teammate]",
    "[[ teammate ]]",
    "[teammate.extra]",
    "[[teammate.notes]]",
    "[future]",
    "[[]]",
    "[\"teammate\"]",
];

const CONFIG_KEYS: &[&str] = &[
    "cloud",
    "tenant",
    "client_id",
    "login_url",
    "graph_url",
    "interval",
    "enabled",
    "start",
    "end",
];
const CONFIG_HEADERS: &[&str] = &[
    "[quiet_hours]",
    "[future]",
    "[[x]]",
    "[cloud]",
    "[interval]",
];

/// A TOML string literal for `s`, as `toml` writes one.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A quoted TOML key for any text (a basic string: JSON's escapes, and DEL).
fn toml_quoted_key(k: &str) -> String {
    serde_json::to_string(k)
        .unwrap()
        .replace('\u{7f}', "\\u007F")
}

/// Text for a comment: TOML allows no control character there but tab.
fn comment_text(c: &str) -> String {
    c.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

/// What may stand after a value or a header on its line.
fn line_end() -> BoxedStrategy<String> {
    prop_oneof![
        3 => Just(String::new()),
        1 => hostile_string().prop_map(|c| format!(" # {}", comment_text(&c))),
        1 => Just("   ".to_string()),
    ]
    .boxed()
}

/// Comment lines and blank lines, as people leave them between entries.
fn comments() -> BoxedStrategy<String> {
    prop::collection::vec(
        prop_oneof![
            hostile_string().prop_map(|c| format!("# {}\n", comment_text(&c))),
            Just("\n".to_string()),
            Just("#\n".to_string()),
        ],
        0..3,
    )
    .prop_map(|v| v.concat())
    .boxed()
}

/// `key = value` lines of keys this version does not know.
fn unknown_entries(keys: &'static [&'static str]) -> BoxedStrategy<String> {
    prop::collection::vec(
        (
            comments(),
            prop_oneof![
                "[a-z_]{1,8}",
                hostile_string().prop_map(|k| toml_quoted_key(&k)),
                "[a-z]{1,5}\\.[a-z]{1,5}",
            ]
            .prop_map(move |k| {
                if keys.contains(&k.as_str()) {
                    format!("{k}_")
                } else {
                    k
                }
            }),
            toml_value(),
            line_end(),
        )
            .prop_map(|(c, k, v, end)| format!("{c}{k} = {v}{end}\n")),
        0..3,
    )
    .prop_map(|v| v.concat())
    .boxed()
}

const TEAMMATE_KEYS: &[&str] = &[
    "id",
    "display_name",
    "user_principal_name",
    "mail",
    "job_title",
    "notify",
    "favorite",
    "notify_every_change",
    "group",
];

/// One `[[teammate]]` table as people may write it: any order of keys,
/// comments, unknown keys and sub-tables of its own.
fn teammate_table(ids: Vec<String>) -> BoxedStrategy<String> {
    let known = (
        prop::sample::select(ids),
        "[ \t]{0,2}",
        prop::option::of(name_text()),
        prop::option::of(name_text()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(any::<bool>()),
        prop::option::of(name_text()),
    );
    (
        comments(),
        prop::sample::select(vec!["[[teammate]]", "[[ teammate ]]", "[[\"teammate\"]]"]),
        line_end(),
        known,
        unknown_entries(TEAMMATE_KEYS),
        any::<u64>(),
        prop::option::of((
            prop::sample::select(vec!["[teammate.devices]", "[[teammate.devices]]"]),
            unknown_entries(TEAMMATE_KEYS),
        )),
    )
        .prop_map(
            |(
                lead,
                header,
                end,
                (id, pad, name, mail, notify, favorite, every, group),
                unknown,
                order,
                sub,
            )| {
                let mut lines = vec![format!("id = {}\n", toml_str(&format!("{pad}{id}{pad}")))];
                if let Some(n) = name {
                    lines.push(format!("display_name = {}\n", toml_str(&n)));
                }
                if let Some(m) = mail {
                    lines.push(format!("mail = {}\n", toml_str(&m)));
                }
                for (k, v) in [
                    ("notify", notify),
                    ("favorite", favorite),
                    ("notify_every_change", every),
                ] {
                    if let Some(v) = v {
                        lines.push(format!("{k} = {v}\n"));
                    }
                }
                if let Some(g) = group {
                    lines.push(format!("group = {}\n", toml_str(&g)));
                }
                lines.push(unknown);
                // Any order of the keys.
                let n = lines.len();
                lines.rotate_left((order as usize) % n);
                let mut t = format!("{lead}{header}{end}\n{}", lines.concat());
                if let Some((h, body)) = sub {
                    t.push_str(&format!("{h}\n{body}"));
                }
                t
            },
        )
        .boxed()
}

/// A valid roster file as people may have edited it: a header, unknown
/// top-level keys, teammates (some twice, in another letter case), or the
/// same as an inline array.
fn roster_document() -> BoxedStrategy<String> {
    prop::collection::vec(guid(), 1..4)
        .prop_flat_map(|ids| {
            let inline =
                prop::collection::vec((prop::sample::select(ids.clone()), name_text()), 1..3)
                    .prop_map(|people| {
                        let tables: Vec<String> = people
                            .iter()
                            .map(|(id, n)| {
                                format!(
                                    "{{ id = {}, display_name = {} }}",
                                    toml_str(id),
                                    toml_str(n)
                                )
                            })
                            .collect();
                        format!("teammate = [{}]\n", tables.join(", "))
                    });
            (
                comments(),
                unknown_entries(ROSTER_KEYS),
                prop_oneof![
                    4 => prop::collection::vec(teammate_table(ids), 0..5).prop_map(|t| t.concat()),
                    1 => inline,
                ],
                prop::option::of(
                    (Just("[future]\n"), unknown_entries(&[])).prop_map(|(h, b)| format!("{h}{b}")),
                ),
                prop::sample::select(vec!["\n", "\r\n"]),
            )
        })
        .prop_map(|(header, top, teammates, future, end)| {
            format!("{header}{top}\n{teammates}{}", future.unwrap_or_default()).replace('\n', end)
        })
        .boxed()
}

/// A valid config file as people may have edited it: known keys, quiet hours
/// as a table, an inline table or dotted keys, unknown keys and tables.
fn config_document() -> BoxedStrategy<String> {
    let known = prop::collection::vec(
        (
            comments(),
            prop::sample::select(&CONFIG_KEYS[..6]),
            prop_oneof![
                3 => hostile_string().prop_map(|s| toml_str(&s)),
                1 => toml_value().prop_map(|v| v.to_string()),
            ],
            line_end(),
        )
            .prop_map(|(c, k, v, end)| format!("{c}{k} = {v}{end}\n")),
        0..4,
    )
    .prop_map(|v| v.concat());
    let quiet =
        (any::<bool>(), "[0-9]{2}:[0-9]{2}", hostile_string()).prop_flat_map(|(on, start, end)| {
            prop::sample::select(vec![
                format!(
                    "[quiet_hours]\nenabled = {on}\nstart = {}\nend = {}\n",
                    toml_str(&start),
                    toml_str(&end)
                ),
                format!(
                    "quiet_hours = {{ enabled = {on}, start = {} }}\n",
                    toml_str(&start)
                ),
                format!(
                    "quiet_hours.enabled = {on}\nquiet_hours.end = {}\n",
                    toml_str(&end)
                ),
            ])
        });
    (
        comments(),
        known,
        unknown_entries(CONFIG_KEYS),
        prop::option::of(quiet),
        prop::option::of(
            (Just("[future]\n"), unknown_entries(&[])).prop_map(|(h, b)| format!("{h}{b}")),
        ),
        prop::option::of(
            (Just("[[plugins]]\n"), unknown_entries(&[])).prop_map(|(h, b)| format!("{h}{b}")),
        ),
    )
        .prop_map(|(header, known, unknown, quiet, future, plugins)| {
            let quiet = quiet.unwrap_or_default();
            // Dotted and inline quiet hours are plain keys: before any table.
            let (before, after) = if quiet.starts_with('[') {
                (String::new(), quiet)
            } else {
                (quiet, String::new())
            };
            format!(
                "{header}{known}{unknown}{before}\n{after}{}{}",
                future.unwrap_or_default(),
                plugins.unwrap_or_default()
            )
        })
        .boxed()
}

/// Writes `bytes` as `name` in a fresh directory.
fn dir_with(name: &str, bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(name), bytes).unwrap();
    dir
}

// ------------------------------------------------------------------ roster.toml

/// Names with everything that could break the TOML around them.
fn name_text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => "[A-Za-z .'-]{0,24}",
        3 => hostile_string(),
        1 => Just(String::new()),
    ]
    .boxed()
}

/// Keys a teammate may carry that this version does not know.
fn unknown_teammate_keys() -> BoxedStrategy<toml::Table> {
    const KNOWN: &[&str] = &[
        "id",
        "display_name",
        "user_principal_name",
        "mail",
        "job_title",
        "notify",
        "favorite",
        "notify_every_change",
        "group",
    ];
    prop::collection::btree_map(
        prop_oneof![
            Just("added_at".to_string()),
            "[a-z_]{1,10}",
            hostile_string(),
        ]
        .prop_map(|k| {
            if KNOWN.contains(&k.as_str()) {
                format!("{k}_")
            } else {
                k
            }
        }),
        toml_value(),
        0..3,
    )
    .prop_map(|m| m.into_iter().collect())
    .boxed()
}

fn teammate() -> BoxedStrategy<Teammate> {
    (
        // The ID as given: any case, perhaps padded; or any text, blank too
        // (see `a_blank_id_is_not_added_and_the_roster_survives`).
        prop_oneof![
            4 => (guid(), "[ \t]{0,2}").prop_map(|(g, pad)| format!("{pad}{g}{pad}")),
            1 => hostile_string(),
        ],
        (name_text(), name_text(), name_text(), name_text()),
        (any::<bool>(), any::<bool>(), any::<bool>()),
        prop::option::of(name_text()),
        unknown_teammate_keys(),
    )
        .prop_map(
            |(id, (display_name, upn, mail, job), (notify, favorite, every), group, extra)| {
                Teammate {
                    id,
                    display_name,
                    user_principal_name: upn,
                    mail,
                    job_title: job,
                    notify,
                    favorite,
                    notify_every_change: every,
                    group,
                    extra,
                }
            },
        )
        .boxed()
}

/// An edit of the roster through its API.
#[derive(Debug, Clone)]
enum RosterEdit {
    Add(Teammate),
    /// The teammate at this position (of those present), or a stranger.
    Remove(prop::sample::Index),
    Notify(prop::sample::Index, bool),
    Favorite(prop::sample::Index, bool),
    EveryChange(prop::sample::Index, bool),
    Group(prop::sample::Index, Option<String>),
}

fn roster_edit() -> impl Strategy<Value = RosterEdit> {
    let i = any::<prop::sample::Index>;
    prop_oneof![
        3 => teammate().prop_map(RosterEdit::Add),
        1 => i().prop_map(RosterEdit::Remove),
        1 => (i(), any::<bool>()).prop_map(|(i, on)| RosterEdit::Notify(i, on)),
        1 => (i(), any::<bool>()).prop_map(|(i, on)| RosterEdit::Favorite(i, on)),
        1 => (i(), any::<bool>()).prop_map(|(i, on)| RosterEdit::EveryChange(i, on)),
        1 => (i(), prop::option::of(name_text())).prop_map(|(i, g)| RosterEdit::Group(i, g)),
    ]
}

impl RosterEdit {
    fn apply(self, roster: &mut Roster) {
        let key = |roster: &Roster, i: prop::sample::Index| match roster.len() {
            0 => "nobody@contoso.com".to_string(),
            n => roster.teammates()[i.index(n)].id.to_uppercase(),
        };
        match self {
            RosterEdit::Add(t) => {
                roster.add(t);
            }
            RosterEdit::Remove(i) => {
                roster.remove(&key(roster, i));
            }
            RosterEdit::Notify(i, on) => {
                roster.set_notify(&key(roster, i), on);
            }
            RosterEdit::Favorite(i, on) => {
                roster.set_favorite(&key(roster, i), on);
            }
            RosterEdit::EveryChange(i, on) => {
                roster.set_notify_every_change(&key(roster, i), on);
            }
            RosterEdit::Group(i, g) => {
                roster.set_group(&key(roster, i), g);
            }
        }
    }
}

/// Shortens a proptest failure message: these values can be long.
fn brief(s: &str) -> String {
    s.chars().take(400).collect()
}

/// Equal, or equal but for NaN (a file may hold `nan`, which is not equal to
/// itself): the file's text is shown when they are not.
fn same<T: PartialEq + std::fmt::Debug + ?Sized>(
    a: &T,
    b: &T,
    file: &str,
) -> Result<(), TestCaseError> {
    if a == b || format!("{a:?}") == format!("{b:?}") {
        return Ok(());
    }
    Err(TestCaseError::fail(format!(
        "not the same:\n  left: {}\n right: {}\nfile:\n{}",
        brief(&format!("{a:?}")),
        brief(&format!("{b:?}")),
        brief(file)
    )))
}

proptest! {
    #![proptest_config(config(FILES))]

    /// Whatever `roster.toml` holds, loading never panics and never fails:
    /// a file that is not a roster is kept aside byte for byte and the roster
    /// starts empty; a file that is one prints and parses back equal.
    #[test]
    fn any_roster_file_loads(
        text in prop_oneof![
            3 => toml_text(ROSTER_KEYS, ROSTER_HEADERS).prop_map(String::into_bytes),
            2 => roster_document().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..512),
        ]
    ) {
        let dir = dir_with(ROSTER_FILE, &text);
        // `read` leaves the file alone; `load` keeps a bad one aside.
        let readable = Roster::read(Roster::path_in(dir.path())).is_ok();
        let roster = Roster::load(dir.path()).unwrap();
        prop_assert_eq!(readable, roster.recovery().is_none());
        match roster.recovery() {
            Some(recovery) => {
                prop_assert!(roster.is_empty());
                prop_assert_eq!(&fs::read(&recovery.backup).unwrap(), &text);
                prop_assert!(!Roster::path_in(dir.path()).exists());
                // The reason names the mistake, not only its line (see
                // `toml_errors_always_give_a_reason`).
                let words = recovery.reason.split(", line ").next().unwrap_or("");
                prop_assert!(!words.trim().is_empty(), "{:?}", recovery.reason);
            }
            None => {
                let printed = roster.to_toml().unwrap();
                let again_dir = dir_with(ROSTER_FILE, printed.as_bytes());
                let again = Roster::load(again_dir.path()).unwrap();
                prop_assert!(
                    again.recovery().is_none(),
                    "{:?}\n{}",
                    again.recovery(),
                    brief(&printed)
                );
                same(again.teammates(), roster.teammates(), &printed)?;
                same(again.extra(), roster.extra(), &printed)?;
                prop_assert_eq!(again.to_toml().unwrap(), printed);
                for t in roster.teammates() {
                    prop_assert!(!t.id.trim().is_empty());
                    prop_assert!(roster.get(&t.id).is_some());
                }
            }
        }
    }

    /// A roster built through the API (names with quotes, newlines, `]]`,
    /// `#`, any Unicode; unknown keys of any type), saved and loaded again,
    /// is equal: same teammates, same order, same flags.
    #[test]
    fn a_saved_roster_loads_back_equal(teammates in prop::collection::vec(teammate(), 0..6)) {
        let dir = tempfile::tempdir().unwrap();
        let mut roster = Roster::load(dir.path()).unwrap();
        for t in teammates {
            roster.add(t);
        }
        roster.save().unwrap();
        let back = Roster::load(dir.path()).unwrap();
        let text = fs::read_to_string(Roster::path_in(dir.path())).unwrap();
        prop_assert!(back.recovery().is_none(), "{:?}\n{}", back.recovery(), brief(&text));
        prop_assert_eq!(back.teammates(), roster.teammates(), "{}", brief(&text));
        prop_assert_eq!(back.ids(), roster.ids());
        prop_assert_eq!(back.merged_on_load(), 0);
    }
    /// A roster file as people may have written it (comments, odd layout,
    /// unknown keys), loaded, edited through the API, saved and loaded
    /// again, holds what the roster held.
    #[test]
    fn an_edited_roster_file_loads_back_equal(
        text in prop_oneof![4 => roster_document(), 1 => toml_text(ROSTER_KEYS, ROSTER_HEADERS)],
        edits in prop::collection::vec(roster_edit(), 0..6),
    ) {
        let dir = dir_with(ROSTER_FILE, text.as_bytes());
        let mut roster = Roster::load(dir.path()).unwrap();
        if roster.recovery().is_some() {
            return Ok(());
        }
        for e in edits {
            e.apply(&mut roster);
        }
        roster.save().unwrap();
        let saved = fs::read_to_string(Roster::path_in(dir.path())).unwrap();
        let back = Roster::load(dir.path()).unwrap();
        prop_assert!(back.recovery().is_none(), "{:?}\n{}", back.recovery(), brief(&saved));
        same(back.teammates(), roster.teammates(), &saved)?;
        same(back.extra(), roster.extra(), &saved)?;
    }
}

// ------------------------------------------------------------------ config.toml

fn url_text() -> BoxedStrategy<String> {
    let host = prop_oneof![
        prop::sample::select(vec![
            "graph.microsoft.com",
            "127.0.0.1",
            "[::1]",
            "localhost",
            "LOCALHOST.",
            "127.1",
            "0x7f.1",
            "[::ffff:127.0.0.1]",
            "xn--nxasmq6b",
            "xn--",
            "bücher.example",
            "[::]",
            "%6c%6fcalhost",
            "0",
            "[",
            "a..b",
            ".",
        ])
        .prop_map(str::to_string),
        "[a-z0-9.-]{0,12}",
        hostile_string(),
    ];
    (
        prop::sample::select(vec![
            "https://", "http://", "HTTPS://", "ftp://", "https:", "", "//",
        ]),
        prop::option::of(prop_oneof!["[a-z]{1,5}(:[a-z]{0,5})?@", hostile_string()]),
        host,
        prop::option::of(prop_oneof![
            (0u32..70_000).prop_map(|p| p.to_string()),
            "[0-9a-z]{0,6}"
        ]),
        prop_oneof!["(/[a-z0-9.%]{0,6}){0,3}/?", hostile_string()],
        prop::option::of(prop_oneof![
            Just("?".to_string()),
            Just("#".to_string()),
            hostile_string()
        ]),
    )
        .prop_map(|(scheme, user, host, port, path, tail)| {
            let mut s = format!("{scheme}{}{host}", user.unwrap_or_default());
            if let Some(port) = port {
                s.push(':');
                s.push_str(&port);
            }
            s.push_str(&path);
            s.push_str(&tail.unwrap_or_default());
            s
        })
        .boxed()
}

fn overrides() -> impl Strategy<Value = Overrides> {
    (
        prop::option::of(prop_oneof![
            prop::sample::select(vec!["global", "USGOV", " dod ", "china", "azure"])
                .prop_map(str::to_string),
            hostile_string(),
        ]),
        prop::option::of(prop_oneof![
            prop::sample::select(vec![
                "organizations",
                "common",
                "consumers",
                "contoso.onmicrosoft.com"
            ])
            .prop_map(str::to_string),
            "[A-Za-z0-9.-]{0,300}",
            hostile_string(),
        ]),
        prop::option::of(prop_oneof![guid(), hostile_string()]),
        prop::option::of(url_text()),
        prop::option::of(url_text()),
        prop::option::of(prop_oneof![0u64..20, any::<u64>(), Just(u64::MAX)]),
    )
        .prop_map(
            |(cloud, tenant, client_id, login_url, graph_url, interval_secs)| Overrides {
                cloud,
                tenant,
                client_id,
                login_url,
                graph_url,
                config_dir: None,
                interval_secs,
                calendar: None,
            },
        )
}

/// Everything `Settings` offers, called on settings that resolved.
fn use_settings(s: &Settings, path: &str) -> Result<(), TestCaseError> {
    prop_assert!(s.interval >= MIN_INTERVAL);
    prop_assert!(validate_tenant(&s.tenant).is_ok());
    prop_assert!(validate_client_id(&s.client_id).is_ok());
    for url in [&s.login_url, &s.graph_url] {
        prop_assert!(url.scheme() == "https" || url.scheme() == "http", "{url}");
        prop_assert!(url.host_str().is_some_and(|h| !h.is_empty()));
    }
    let _ = s.oauth_url("token");
    let _ = s.oauth_url("devicecode");
    let _ = s.graph_endpoint(path);
    let _ = s.graph_endpoint("communications/getPresencesByUserId");
    let _ = s.scopes();
    let _ = s.keyring_account();
    Ok(())
}

proptest! {
    #![proptest_config(config(FILES))]

    /// Whatever `config.toml` holds, loading it and resolving the settings
    /// from it never panics: it is read, or refused with a config error.
    #[test]
    fn any_config_file_resolves_or_is_refused(
        text in prop_oneof![
            3 => toml_text(CONFIG_KEYS, CONFIG_HEADERS).prop_map(String::into_bytes),
            2 => config_document().prop_map(String::into_bytes),
            1 => prop::collection::vec(any::<u8>(), 0..512),
        ],
        path in hostile_string(),
    ) {
        let dir = dir_with(CONFIG_FILE, &text);
        match ConfigFile::load(dir.path()) {
            Ok(file) => {
                for key in CONFIG_KEYS {
                    let _ = file.string(key);
                    let _ = file.integer(key);
                    let _ = file.boolean(key);
                }
            }
            // The error names the mistake (see
            // `toml_errors_always_give_a_reason`).
            Err(e) => {
                let message = e.to_string();
                let words = message.rsplit("could not be read: ").next().unwrap_or("");
                prop_assert!(!words.trim().is_empty(), "{message:?}");
            }
        }
        let resolved = Settings::resolve(&Overrides {
            config_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        });
        match resolved {
            Ok(s) => use_settings(&s, &path)?,
            // A problem in the file names a line the file has.
            Err(Error::ConfigFile(problem)) => {
                let lines = text.split(|&b| b == b'\n').count();
                prop_assert!(problem.line.is_none_or(|l| (1..=lines).contains(&l)), "{problem}");
                prop_assert_eq!(problem.file, dir.path().join(CONFIG_FILE));
            }
            Err(e) => prop_assert!(matches!(e, Error::Config(_)), "{e:?}"),
        }
    }

    /// Flags and variables of any value, over a config file of any value:
    /// resolved or refused, never a panic; what resolves is usable.
    #[test]
    fn any_overrides_resolve_or_are_refused(
        o in overrides(),
        text in toml_text(CONFIG_KEYS, CONFIG_HEADERS),
        path in hostile_string(),
    ) {
        let dir = dir_with(CONFIG_FILE, text.as_bytes());
        match Settings::resolve(&Overrides { config_dir: Some(dir.path().to_path_buf()), ..o }) {
            Ok(s) => use_settings(&s, &path)?,
            Err(e) => prop_assert!(matches!(e, Error::Config(_) | Error::ConfigFile(_)), "{e:?}"),
        }
    }

    /// Values set through `ConfigFile::set` and saved load back equal, with
    /// what the file held before kept.
    #[test]
    fn config_values_set_and_saved_load_back_equal(
        before in prop::collection::btree_map(hostile_string(), toml_value(), 0..3),
        set in prop::collection::vec(
            (
                prop_oneof![
                    toml_key(CONFIG_KEYS),
                    Just("quiet_hours".to_string()),
                    hostile_string(),
                ],
                toml_value(),
            ),
            0..5,
        ),
        quiet in prop::option::of((any::<bool>(), hostile_string(), hostile_string())),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ConfigFile::load(dir.path()).unwrap();
        for (k, v) in before {
            file.set(&k, v);
        }
        file.save().unwrap();
        let mut file = ConfigFile::load(dir.path()).unwrap();
        for (k, v) in set {
            file.set(&k, v);
        }
        if let Some((enabled, start, end)) = quiet {
            let mut q = toml::Table::new();
            q.insert("enabled".into(), enabled.into());
            q.insert("start".into(), start.into());
            q.insert("end".into(), end.into());
            file.set("quiet_hours", toml::Value::Table(q));
        }
        file.save().unwrap();
        let back = ConfigFile::load(dir.path()).unwrap();
        let text = fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
        prop_assert_eq!(back.table(), file.table(), "{}", brief(&text));
    }

    /// A config file as people may have written it, loaded, changed through
    /// `set` and `remove`, saved and loaded again, holds what was set.
    #[test]
    fn an_edited_config_file_loads_back_equal(
        text in prop_oneof![4 => config_document(), 1 => toml_text(CONFIG_KEYS, CONFIG_HEADERS)],
        edits in prop::collection::vec(
            (
                prop_oneof![
                    2 => any::<prop::sample::Index>().prop_map(Ok),
                    2 => toml_key(CONFIG_KEYS).prop_map(Err),
                    1 => Just(Err("quiet_hours".to_string())),
                ],
                prop::option::of(toml_value()),
            ),
            0..5,
        ),
    ) {
        let dir = dir_with(CONFIG_FILE, text.as_bytes());
        let Ok(mut file) = ConfigFile::load(dir.path()) else {
            return Ok(());
        };
        for (key, value) in edits {
            // A key the file has, or any other.
            let key = match key {
                Ok(i) if !file.table().is_empty() => {
                    file.table().keys().nth(i.index(file.table().len())).unwrap().clone()
                }
                Ok(_) => "tenant".to_string(),
                Err(k) => k,
            };
            match value {
                Some(v) => file.set(&key, v),
                None => file.remove(&key),
            }
        }
        file.save().unwrap();
        let saved = fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap();
        let back = ConfigFile::load(dir.path());
        prop_assert!(back.is_ok(), "{:?}\n{}", back.err(), brief(&saved));
        same(back.unwrap().table(), file.table(), &saved)?;
    }

    /// Known keys with values of the right type read back as set.
    #[test]
    fn config_strings_and_numbers_read_back(
        tenant in hostile_string(),
        interval in any::<i64>(),
        flag in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut file = ConfigFile::load(dir.path()).unwrap();
        file.set("tenant", tenant.as_str());
        file.set("interval", interval);
        file.set("flag", flag);
        file.save().unwrap();
        let back = ConfigFile::load(dir.path()).unwrap();
        prop_assert_eq!(back.string("tenant").unwrap(), Some(tenant));
        match back.integer("interval") {
            Ok(n) => prop_assert_eq!(n, Some(interval as u64)),
            Err(e) => prop_assert!(interval < 0 && matches!(e, Error::ConfigFile(_))),
        }
        prop_assert_eq!(back.boolean("flag").unwrap(), Some(flag));
    }
}

proptest! {
    #![proptest_config(config(FAST))]

    /// The checks of single values never panic, and say yes only to what
    /// they promise.
    #[test]
    fn value_checks_never_panic(
        url in url_text(),
        text in hostile_string(),
        id in prop_oneof![guid(), hostile_string()],
        secs in prop_oneof![0u64..20, any::<u64>(), Just(u64::MAX)],
    ) {
        for raw in [&url, &text] {
            if let Ok(u) = parse_service_url("Graph URL", raw) {
                prop_assert!(u.scheme() == "https" || u.scheme() == "http");
                prop_assert!(u.query().is_none() && u.fragment().is_none());
                prop_assert!(u.host_str().is_some_and(|h| !h.is_empty()));
            }
        }
        for raw in [&text, &id] {
            if validate_tenant(raw).is_ok() {
                prop_assert!(!raw.is_empty() && raw.len() <= 256);
                prop_assert!(raw
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'));
            }
        }
        prop_assert_eq!(validate_client_id(&id).is_ok(), uuid::Uuid::try_parse(&id).is_ok());
        // What is accepted is a range from the minimum up, taken as given.
        match interval_from_secs(secs) {
            Ok(d) => {
                prop_assert_eq!(d, Duration::from_secs(secs));
                prop_assert!(d >= MIN_INTERVAL);
                prop_assert!(interval_from_secs(secs - 1).is_ok() || d == MIN_INTERVAL);
            }
            Err(e) => {
                prop_assert!(matches!(e, Error::Config(_)));
                let above = Duration::from_secs(secs) > MIN_INTERVAL;
                prop_assert!(!above || interval_from_secs(secs.saturating_add(1)).is_err());
            }
        }
        prop_assert!(interval_from_secs(15).is_ok());
        match text.parse::<Cloud>() {
            Ok(c) => prop_assert_eq!(c.id(), text.trim().to_ascii_lowercase()),
            Err(e) => prop_assert!(matches!(e, Error::Config(_))),
        }
        for c in Cloud::ALL {
            prop_assert_eq!(c.id().parse::<Cloud>().unwrap(), c);
        }
    }
}

// ------------------------------------------------------------ watch --ids-file

/// A token that is neither a separator, a comment nor a GUID.
fn junk_token() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^,#\\s]{1,12}",
        guid().prop_map(|g| format!("{{{g}}}")),
        guid().prop_map(|g| g[..35].to_string()),
        guid().prop_map(|g| g.replace('-', "")),
    ]
}

#[derive(Debug, Clone)]
enum Token {
    Id(String),
    Junk(String),
}

/// Lines of IDs and junk between separators, each perhaps with a comment
/// (which may hold GUIDs too: they are not read).
fn ids_file() -> impl Strategy<Value = (String, Vec<String>)> {
    let token = prop_oneof![
        guid().prop_map(Token::Id),
        junk_token().prop_map(Token::Junk)
    ];
    let line = (
        "[ \t]{0,2}",
        prop::collection::vec(
            (
                token,
                prop::sample::select(vec![",", " ", "\t", ", ", ",,", " ,\t", "\r "]),
            ),
            0..5,
        ),
        prop::option::of(
            prop_oneof![hostile_string(), guid(),]
                .prop_map(|c| format!("#{}", c.replace(['\n', '\r'], " "))),
        ),
    );
    (
        prop::collection::vec(line, 0..8),
        prop::sample::select(vec!["\n", "\r\n"]),
    )
        .prop_map(|(lines, end)| {
            let mut text = String::new();
            let mut want = Vec::new();
            for (lead, tokens, comment) in lines {
                text.push_str(&lead);
                for (t, sep) in tokens {
                    match t {
                        Token::Id(g) => {
                            want.push(g.to_ascii_lowercase());
                            text.push_str(&g);
                        }
                        Token::Junk(j) => text.push_str(&j),
                    }
                    text.push_str(sep);
                }
                if let Some(c) = comment {
                    text.push_str(&c);
                }
                text.push_str(end);
            }
            (text, want)
        })
}

proptest! {
    #![proptest_config(config(FILES))]

    /// Every GUID among the junk, outside comments, is found, in order; no
    /// other valid ID appears.
    #[test]
    fn ids_files_yield_every_id((text, want) in ids_file()) {
        let dir = dir_with("ids.txt", text.as_bytes());
        let read = ids_from_file(&dir.path().join("ids.txt")).unwrap();
        let valid: Vec<String> = read.iter().filter_map(|i| normalize_user_id(i)).collect();
        prop_assert_eq!(valid, want);
        let clean = |i: &String| {
            !i.is_empty() && !i.contains([',', '#']) && !i.contains(char::is_whitespace)
        };
        prop_assert!(read.iter().all(clean));
    }

    /// Any bytes in an IDs file: IDs or an error, never a panic.
    #[test]
    fn any_ids_file_reads_or_is_refused(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = dir_with("ids.txt", &bytes);
        match ids_from_file(&dir.path().join("ids.txt")) {
            Ok(ids) => {
                prop_assert!(std::str::from_utf8(&bytes).is_ok());
                prop_assert!(ids.iter().all(|i| !i.is_empty()));
            }
            Err(e) => prop_assert!(matches!(e, Error::Config(_))),
        }
    }
}

proptest! {
    #![proptest_config(config(FAST))]

    /// `--ids`: never a panic; the pieces, joined again, split the same way.
    #[test]
    fn id_lists_split_and_join_back(
        list in prop_oneof![hostile_string(), ids_file().prop_map(|(t, _)| t)],
    ) {
        let ids = parse_ids(&list);
        let clean = |i: &String| {
            !i.is_empty() && !i.contains(',') && !i.contains(char::is_whitespace)
        };
        prop_assert!(ids.iter().all(clean));
        prop_assert_eq!(parse_ids(&ids.join(",")), ids.clone());
        prop_assert_eq!(parse_ids(&ids.join("\n")), ids);
    }

    /// Text from other people shown in a terminal: no control or bidi
    /// character survives, and it is cut where asked. (Any limit is taken:
    /// see `clean_text_takes_any_limit`; a sane one keeps the cut in view.)
    #[test]
    fn clean_text_is_safe_and_short(raw in hostile_string(), max in 0usize..200) {
        let out = clean_text(&raw, max);
        prop_assert!(!out.chars().any(is_unsafe_char), "{out:?}");
        prop_assert!(out.chars().count() <= max + 3);
    }

    /// What Graph and the directory write (notes, out-of-office messages,
    /// unknown values, names) reaches the terminal through `presently watch`
    /// with no control or bidi character; `--json` prints one line of JSON
    /// per event. (Status lines carry the engine's own words and a Graph
    /// error's message, which is cleaned when it is read: see
    /// `graph_error_messages_reach_the_terminal_as_text` and
    /// `graph_error_bodies_never_panic_and_read_as_clean_text`.)
    #[test]
    fn watch_lines_carry_nothing_unsafe(
        models in prop::collection::vec(model(), 1..4),
        names in prop::collection::vec(hostile_string(), 0..4),
        invalid in prop::collection::vec(hostile_string(), 1..4),
    ) {
        let presences: Vec<Presence> = models.iter().map(Model::expected).collect();
        let names: HashMap<String, String> = presences
            .iter()
            .map(|p| p.id.clone())
            .zip(names)
            .collect();
        let events = [
            EngineEvent::Snapshot { at: at(0), presences: presences.clone() },
            EngineEvent::Changed(PresenceChange {
                id: presences[0].id.clone(),
                presence: presences[0].clone(),
                previous: presences.last().cloned(),
                previous_since: Some(at(1)),
                at: at(2),
            }),
            EngineEvent::OwnPresence(presences[0].clone()),
            EngineEvent::InvalidIds { ids: invalid, reason: IdProblem::NotAUserId },
        ];
        let human = Printer::human(names);
        for event in &events {
            let text = human.format(event);
            prop_assert!(text.ends_with('\n'));
            for line in text.lines() {
                prop_assert!(!line.chars().any(is_unsafe_char), "{line:?}");
            }
            let json = Printer::json().format(event);
            prop_assert_eq!(json.matches('\n').count(), 1);
            prop_assert!(serde_json::from_str::<Value>(&json).is_ok());
        }
    }

    /// Initials of any name: never a panic, never empty.
    #[test]
    fn initials_of_any_name(
        name in prop_oneof![name_text(), hostile_string().prop_map(|s| format!("{s}@{s}"))],
    ) {
        prop_assert!(!initials(&name).is_empty());
    }

    /// A secret split across keyring entries (Windows' limit) reads back
    /// equal, whatever its characters.
    #[test]
    fn split_secrets_read_back_equal(
        value in prop_oneof![
            hostile_string(),
            (0usize..6000, prop::sample::select(vec!["a", "é", "𝄞", "\n"]))
                .prop_map(|(n, s)| s.repeat(n)),
        ],
        previous in prop::option::of(hostile_string()),
    ) {
        let store = MemoryStore::with_windows_limit();
        if let Some(p) = previous {
            save_split(&store, "k", &Secret::new(p)).unwrap();
        }
        save_split(&store, "k", &Secret::new(value.clone())).unwrap();
        let back = load_split(&store, "k").unwrap().unwrap();
        prop_assert_eq!(back.expose(), value.as_str());
        // Every entry is within the limit (the store refuses more), and the
        // previous value's parts are gone: the entries are the parts named.
        let first = store.load("k").unwrap().unwrap();
        let count: usize = first
            .expose()
            .split_once('\n')
            .and_then(|(h, _)| h.rsplit(':').next()?.parse().ok())
            .unwrap();
        prop_assert_eq!(store.entries().len(), count);
    }

    /// Whatever the keyring holds under a key, reading it never panics.
    #[test]
    fn any_keyring_content_reads_or_is_refused(
        first in prop_oneof![
            hostile_string(),
            ("[0-9a-f]{0,9}", prop_oneof![0usize..4, any::<usize>()], hostile_string())
                .prop_map(|(g, n, p)| format!("presently-split:1:{g}:{n}\n{p}")),
        ],
        parts in prop::collection::vec((0usize..4, hostile_string()), 0..3),
    ) {
        let store = MemoryStore::new();
        store.save("k", &Secret::new(first.clone())).unwrap();
        if let Some((_, generation, _)) = first
            .strip_prefix("presently-split:1:")
            .and_then(|h| h.split_once('\n'))
            .and_then(|(h, p)| h.split_once(':').map(|(g, n)| (n, g, p)))
        {
            for (n, p) in parts {
                store.save(&format!("k#{generation}.{n}"), &Secret::new(p)).unwrap();
            }
        }
        match load_split(&store, "k") {
            Ok(v) => prop_assert!(v.is_some()),
            Err(e) => prop_assert!(matches!(e, Error::SignInNeeded(_)), "{e:?}"),
        }
    }
}

// ------------------------------------------------------ Graph error bodies

/// Graph's error body, `{"error":{"code","message"}}`, with hostile or
/// missing parts and fields it does not know, or any JSON at all.
fn wire_error_body() -> BoxedStrategy<Value> {
    let detail = (
        field(str_value(hostile_string())),
        field(str_value(hostile_string())),
        prop::collection::btree_map(hostile_string(), json_leaf(), 0..3),
    )
        .prop_map(|(code, message, extra)| {
            with_unknown_fields(object(vec![("code", code), ("message", message)]), extra)
        })
        .boxed();
    prop_oneof![
        4 => field(detail).prop_map(|e| object(vec![("error", e)])),
        1 => json_any(),
    ]
    .boxed()
}

/// The longest text an [`Error::Graph`] can show: its status, and a message
/// of 300 characters and "...".
const LONGEST_GRAPH_ERROR: usize = "Microsoft Graph answered 65535: ".len() + 303;

/// Tidy words as Graph writes them in a message: what `clean_text` keeps as
/// it is.
fn message_words() -> BoxedStrategy<String> {
    prop::collection::vec("[A-Za-z0-9.,;:'()/é-]{1,12}", 1..20)
        .prop_map(|w| w.join(" "))
        .boxed()
}

proptest! {
    #![proptest_config(config(FAST))]

    /// Any bytes as a Graph error body (what `poll`, `get` and `post` read
    /// past an error status, up to 64 KiB): never a panic, always an
    /// `Error::Graph` of that status whose text has no control or bidi
    /// character, is never blank, and is at most a status and 303
    /// characters long. Graph's code and message are read when the body is
    /// its error object with a message, the status's words otherwise.
    #[test]
    fn graph_error_bodies_never_panic_and_read_as_clean_text(
        status in prop_oneof![
            3 => prop::sample::select(vec![400u16, 401, 403, 404, 409, 429, 500, 502, 503, 504]),
            1 => any::<u16>(),
        ],
        body in json_text(wire_error_body()),
    ) {
        let e = parse_error_body(status, &body);
        let text = e.to_string();
        prop_assert!(!text.chars().any(is_unsafe_char), "{text:?}");
        prop_assert!(text.chars().count() <= LONGEST_GRAPH_ERROR, "{}", text.len());
        let Error::Graph { status: got, code, message } = e else {
            return Err(TestCaseError::fail(format!("not a Graph error: {e:?}")));
        };
        prop_assert_eq!(got, status);
        prop_assert!(!message.trim().is_empty(), "{message:?}");
        // What Graph wrote, read by serde_json on its own.
        let v = serde_json::from_slice::<Value>(&body).ok();
        let given = v.as_ref().and_then(|v| {
            let e = v.get("error")?.as_object()?;
            let message = e.get("message")?.as_str()?;
            let code = match e.get("code") {
                None | Some(Value::Null) => "",
                Some(c) => c.as_str()?,
            };
            Some((code.to_string(), message.to_string()))
        });
        match given {
            Some((c, m)) if !m.trim().is_empty() && !clean_text(&m, 300).trim().is_empty() => {
                prop_assert_eq!(code, c);
                prop_assert_eq!(message, clean_text(&m, 300));
            }
            _ if v.is_some() => prop_assert_eq!(code, ""),
            // Not JSON to serde_json's `Value`, which checks more than the
            // parser needs to (an unknown field's string that is not UTF-8
            // is skipped unread): no oracle for the code.
            _ => {}
        }
    }

    /// A well-formed error body gives its code and message back; printed
    /// again as Graph writes it, it reads back equal.
    #[test]
    fn graph_error_bodies_round_trip(
        status in 400u16..600,
        code in prop_oneof![Just("Forbidden".to_string()), "[A-Za-z_]{1,30}", hostile_string()],
        message in prop_oneof![3 => message_words(), 1 => hostile_string()],
    ) {
        let body = json!({ "error": { "code": code, "message": message } }).to_string();
        let Error::Graph { status: s1, code: c1, message: m1 } =
            parse_error_body(status, body.as_bytes())
        else {
            return Err(TestCaseError::fail("not a Graph error"));
        };
        prop_assert_eq!(s1, status);
        if message.trim().is_empty() || clean_text(&message, 300).trim().is_empty() {
            // Nothing readable (see
            // `a_graph_error_message_of_control_characters_is_not_blank`):
            // the status's words, and no code.
            prop_assert_eq!(c1.as_str(), "");
            return Ok(());
        }
        prop_assert_eq!(&c1, &code);
        prop_assert_eq!(&m1, &clean_text(&message, 300));
        if message.chars().count() <= 300 && message == message.trim()
            && !message.contains("  ") && !message.chars().any(is_unsafe_char)
        {
            prop_assert_eq!(&m1, &message);
        }
        let again = json!({ "error": { "code": c1, "message": m1 } }).to_string();
        let Error::Graph { status: s2, code: c2, message: m2 } =
            parse_error_body(status, again.as_bytes())
        else {
            return Err(TestCaseError::fail("not a Graph error"));
        };
        prop_assert_eq!((s2, c2, m2), (s1, c1, m1));
    }
}

// ---------------------------------------------------- calendar answers

/// Free/busy statuses as Graph writes them, in any case, and others.
const SHOW_AS: &[&str] = &[
    "free",
    "tentative",
    "busy",
    "oof",
    "workingElsewhere",
    "unknown",
    "Busy",
    "OOF",
    "TENTATIVE",
    " busy ",
];

/// Zones as Graph names them in working hours: Windows names, IANA names,
/// and names Presently cannot place.
const ZONE_NAMES: &[&str] = &[
    "UTC",
    "Pacific Standard Time",
    "W. Europe Standard Time",
    "Tokyo Standard Time",
    "America/New_York",
    "Europe/Paris",
    "Etc/GMT-14",
    "Mars/Olympus_Mons",
    "",
];

const DAY_NAMES: &[(&str, chrono::Weekday)] = &[
    ("monday", chrono::Weekday::Mon),
    ("tuesday", chrono::Weekday::Tue),
    ("wednesday", chrono::Weekday::Wed),
    ("thursday", chrono::Weekday::Thu),
    ("friday", chrono::Weekday::Fri),
    ("saturday", chrono::Weekday::Sat),
    ("sunday", chrono::Weekday::Sun),
];

/// An instant between 2000 and 2100, to the 100 ns Graph writes.
fn calendar_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (946_684_800i64..4_102_444_800, 0u32..10_000_000)
        .prop_map(|(s, ticks)| DateTime::from_timestamp(s, ticks * 100).unwrap())
}

/// Graph's `dateTime`: local time with seven decimals, no offset.
fn graph_time(t: DateTime<Utc>) -> String {
    // chrono's `%.f` has no seven-digit form.
    format!(
        "{}.{:07}",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

/// Working hours as generated: day names, start and end (hour, minute), and
/// the zone's name.
type HoursModel = (Vec<&'static str>, (u32, u32), (u32, u32), &'static str);

/// The window every generated answer is read for: two days in quarter
/// hours.
fn calendar_window() -> ReadWindow {
    ReadWindow {
        start: "2026-12-01T00:00:00Z".parse().unwrap(),
        end: "2026-12-03T00:00:00Z".parse().unwrap(),
        slot_minutes: 15,
    }
}

/// The `availabilityView` of every generated schedule that was read, and
/// what it says: busy in its second and third quarter hours. It is the
/// truth only for a schedule without items.
const CALENDAR_VIEW: &str = "0220";

fn calendar_view_items() -> Vec<(ShowAs, Span)> {
    let start = calendar_window().start;
    vec![(
        ShowAs::Busy,
        Span {
            start: start + chrono::Duration::minutes(15),
            end: start + chrono::Duration::minutes(45),
        },
    )]
}

/// One schedule as generated: its ID, and its items and working hours or
/// the error Graph gave for it.
#[derive(Debug, Clone)]
enum CalendarModel {
    Read {
        id: String,
        items: Vec<(&'static str, DateTime<Utc>, DateTime<Utc>)>,
        hours: Option<HoursModel>,
    },
    Unreadable {
        id: String,
        message: Option<String>,
        response_code: Option<String>,
    },
}

fn calendar_model() -> impl Strategy<Value = CalendarModel> {
    let id = prop_oneof![3 => "[a-z]{1,8}@[a-z]{1,8}\\.com", 1 => hostile_string()];
    let item = (
        prop::sample::select(SHOW_AS),
        calendar_instant(),
        calendar_instant(),
    );
    let clock = (0u32..24, prop::sample::select(vec![0u32, 15, 30, 45]));
    let hours = (
        prop::collection::vec(prop::sample::select(DAY_NAMES).prop_map(|(n, _)| n), 0..9),
        clock.clone(),
        clock,
        prop::sample::select(ZONE_NAMES),
    );
    prop_oneof![
        4 => (id.clone(), prop::collection::vec(item, 0..6), prop::option::of(hours))
            .prop_map(|(id, items, hours)| CalendarModel::Read { id, items, hours }),
        1 => (id, prop::option::of(hostile_string()), prop::option::of(hostile_string()))
            .prop_map(|(id, message, response_code)| CalendarModel::Unreadable {
                id,
                message,
                response_code,
            }),
    ]
}

impl CalendarModel {
    fn wire(&self) -> Value {
        match self {
            CalendarModel::Read { id, items, hours } => {
                let items: Vec<Value> = items
                    .iter()
                    .map(|(status, start, end)| {
                        json!({
                            "isPrivate": false,
                            "status": status,
                            "subject": "Planning",
                            "start": {"dateTime": graph_time(*start), "timeZone": "UTC"},
                            "end": {"dateTime": graph_time(*end), "timeZone": "UTC"},
                        })
                    })
                    .collect();
                let mut v = json!({
                    "scheduleId": id,
                    "availabilityView": CALENDAR_VIEW,
                    "scheduleItems": items,
                });
                if let Some((days, (sh, sm), (eh, em), zone)) = hours {
                    v["workingHours"] = json!({
                        "daysOfWeek": days,
                        "startTime": format!("{sh:02}:{sm:02}:00.0000000"),
                        "endTime": format!("{eh:02}:{em:02}:00.0000000"),
                        "timeZone": {"name": zone},
                    });
                }
                v
            }
            CalendarModel::Unreadable {
                id,
                message,
                response_code,
            } => json!({
                "scheduleId": id,
                "availabilityView": "",
                "error": object(vec![
                    ("message", message.clone().map(Value::String)),
                    ("responseCode", response_code.clone().map(Value::String)),
                ]),
            }),
        }
    }

    fn expected(&self) -> (String, std::result::Result<Schedule, UnreadableSchedule>) {
        match self {
            CalendarModel::Read { id, items, hours } => {
                let mut items = items
                    .iter()
                    .map(|(status, start, end)| {
                        (
                            ShowAs::parse(status),
                            Span {
                                start: *start,
                                end: *end,
                            },
                        )
                    })
                    .collect::<Vec<_>>();
                if items.is_empty() {
                    items = calendar_view_items();
                }
                let hours = hours.as_ref().map(|(days, (sh, sm), (eh, em), zone)| {
                    let mut unique = Vec::new();
                    for d in days {
                        let day = DAY_NAMES.iter().find(|(n, _)| n == d).unwrap().1;
                        if !unique.contains(&day) {
                            unique.push(day);
                        }
                    }
                    WorkingHours {
                        days: unique,
                        start: chrono::NaiveTime::from_hms_opt(*sh, *sm, 0).unwrap(),
                        end: chrono::NaiveTime::from_hms_opt(*eh, *em, 0).unwrap(),
                        zone: Zone::named(zone),
                    }
                });
                (
                    id.clone(),
                    Ok(Schedule::new(items, hours).read_until(calendar_window().end)),
                )
            }
            CalendarModel::Unreadable {
                id,
                message,
                response_code,
            } => {
                let said = message
                    .clone()
                    .filter(|m| !m.trim().is_empty())
                    .or(response_code.clone())
                    .unwrap_or_else(|| "the calendar could not be read".into());
                (
                    id.clone(),
                    Err(UnreadableSchedule {
                        said: clean_text(&said, 300),
                    }),
                )
            }
        }
    }
}

/// A `getSchedule` answer of any shape: the documented one with hostile
/// values and wrong types in any field, or any JSON.
fn wire_calendar_answer() -> BoxedStrategy<Value> {
    let date_time = prop_oneof![
        3 => calendar_instant().prop_map(|t| Value::String(graph_time(t))),
        1 => prop::sample::select(vec![
            "2026-12-01T08:00:00", "2026-12-01T08:00", "2026-12-01T08:00:00Z",
            "2026-12-01T08:00:00+14:00", "+262142-12-31T23:59:59", "2026-13-45T99:00:00",
            "yesterday", "",
        ])
        .prop_map(|s| Value::String(s.to_string())),
        1 => str_value(hostile_string()),
    ]
    .boxed();
    let zone_name = prop_oneof![
        3 => prop::sample::select(ZONE_NAMES).prop_map(|s| Value::String(s.to_string())),
        1 => str_value(hostile_string()),
    ]
    .boxed();
    let when = (field(date_time), field(zone_name.clone()))
        .prop_map(|(d, z)| object(vec![("dateTime", d), ("timeZone", z)]))
        .boxed();
    let item = (
        field(
            prop::sample::select(SHOW_AS)
                .prop_map(|s| Value::String(s.to_string()))
                .boxed(),
        ),
        field(when.clone()),
        field(when),
    )
        .prop_map(|(status, start, end)| {
            object(vec![("status", status), ("start", start), ("end", end)])
        })
        .boxed();
    let number = prop_oneof![
        3 => (-1500i64..1500).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => json_leaf(),
    ]
    .boxed();
    let offset = (
        field(str_value(prop_oneof![
            Just("02:00:00".to_string()),
            hostile_string()
        ])),
        field(number.clone()),
        field(str_value(
            prop::sample::select(DAY_NAMES).prop_map(|(n, _)| n.to_string()),
        )),
        field(number.clone()),
        field(number.clone()),
    )
        .prop_map(|(time, occurrence, day, month, bias)| {
            object(vec![
                ("time", time),
                ("dayOccurrence", occurrence),
                ("dayOfWeek", day),
                ("month", month),
                ("daylightBias", bias),
            ])
        })
        .boxed();
    let zone = (
        field(zone_name),
        field(Just(Value::String("#microsoft.graph.customTimeZone".into())).boxed()),
        field(number),
        field(offset.clone()),
        field(offset),
    )
        .prop_map(|(name, kind, bias, standard, daylight)| {
            object(vec![
                ("name", name),
                ("@odata.type", kind),
                ("bias", bias),
                ("standardOffset", standard),
                ("daylightOffset", daylight),
            ])
        })
        .boxed();
    let clock = prop_oneof![
        3 => Just(Value::String("08:00:00.0000000".into())),
        1 => str_value(hostile_string()),
    ]
    .boxed();
    let days = prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(DAY_NAMES).prop_map(|(n, _)| Value::String(n.to_string())),
            1 => json_leaf(),
        ],
        0..8,
    )
    .prop_map(Value::Array)
    .boxed();
    let hours = (field(days), field(clock.clone()), field(clock), field(zone))
        .prop_map(|(days, start, end, zone)| {
            object(vec![
                ("daysOfWeek", days),
                ("startTime", start),
                ("endTime", end),
                ("timeZone", zone),
            ])
        })
        .boxed();
    let error = (
        field(str_value(hostile_string())),
        field(str_value(hostile_string())),
    )
        .prop_map(|(m, c)| object(vec![("message", m), ("responseCode", c)]))
        .boxed();
    let view = str_value(prop_oneof![3 => "[0-4]{0,400}", 1 => hostile_string()]);
    let schedule = (
        field(str_value(hostile_string())),
        field(view),
        field(
            prop::collection::vec(item, 0..4)
                .prop_map(Value::Array)
                .boxed(),
        ),
        field(hours),
        prop::option::weighted(0.2, error),
    )
        .prop_map(|(id, view, items, hours, error)| {
            object(vec![
                ("scheduleId", id),
                ("availabilityView", view),
                ("scheduleItems", items),
                ("workingHours", hours),
                ("error", error),
            ])
        })
        .boxed();
    prop_oneof![
        4 => prop::collection::vec(schedule, 0..4).prop_map(|s| json!({ "value": s })),
        1 => json_any(),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(FAST))]

    /// A `getSchedule` answer of any shape: never a panic; it parses or is
    /// refused as Malformed; only an object whose `value` is an array of
    /// objects with a string `scheduleId` parses, one schedule for each; a
    /// calendar that could not be read gives its reason as clean text of at
    /// most 303 characters; and what parsed answers any instant without a
    /// panic.
    #[test]
    fn calendar_answers_never_panic(
        body in json_text(wire_calendar_answer()),
        now in calendar_instant(),
    ) {
        let schedules = match parse_calendar_answer(&body, &calendar_window()) {
            Ok(s) => s,
            Err(e) => {
                prop_assert!(matches!(e, Error::Malformed(_)), "{e:?}");
                return Ok(());
            }
        };
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            let listed = v["value"].as_array();
            prop_assert!(
                listed.is_some_and(|l| l.iter().all(|s| s["scheduleId"].is_string())),
                "took {v}"
            );
            prop_assert_eq!(listed.map_or(0, Vec::len), schedules.len());
        }
        for (_, schedule) in &schedules {
            match schedule {
                Ok(s) => {
                    let _ = s.outlook_at(now);
                }
                Err(why) => {
                    prop_assert!(!why.said.chars().any(is_unsafe_char), "{why:?}");
                    prop_assert!(why.said.chars().count() <= 303);
                }
            }
        }
    }

    /// A well-formed answer parses to what it was made of: each schedule's
    /// ID, its busy, out-of-office and tentative time (from its items, or
    /// from its `availabilityView` when it has none), its working hours
    /// (days, times and zone), or the reason Graph gave for not reading it.
    #[test]
    fn well_formed_calendar_answers_parse_as_generated(
        models in prop::collection::vec(calendar_model(), 0..5),
    ) {
        let wire = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)",
            "value": models.iter().map(CalendarModel::wire).collect::<Vec<_>>(),
        });
        let got = parse_calendar_answer(wire.to_string().as_bytes(), &calendar_window()).unwrap();
        let want: Vec<_> = models.iter().map(CalendarModel::expected).collect();
        prop_assert_eq!(got, want);
    }
}

// ------------------------------------------------------------------ regressions

// Bugs the properties above found, each fixed and kept here as a named
// regression test (the failing inputs proptest found are also replayed from
// `tests/regressions/properties.txt`). A new finding goes here with its fix.

/// Fixed, kept as a regression test. The module promises "an object with a
/// `value` array of objects that each carry a string `id`; anything else is
/// Malformed, so that a broken answer can never be mistaken for 'everyone
/// went offline'". serde's derived `Deserialize` also reads a struct from a
/// JSON array, field by field, so `[[]]` was taken as an empty answer
/// (everyone asked becomes unknown) and an array of positional values as a
/// presence.
#[test]
fn json_arrays_are_refused_for_presence_answers() {
    const A: &str = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";
    for body in [
        "[[]]".to_string(),
        format!(r#"[[["{A}","Available","Available",null,null,null,null]]]"#),
        format!(r#"{{"value":[["{A}","Busy","InACall",null,null,null,null]]}}"#),
    ] {
        let got = parse_presences(body.as_bytes());
        assert!(
            matches!(got, Err(Error::Malformed(_))),
            "{body} gave {got:?}"
        );
    }
    let one = format!(r#"["{A}","Busy","InACall",null,null,null,null]"#);
    let got = parse_presence(one.as_bytes());
    assert!(
        matches!(got, Err(Error::Malformed(_))),
        "{one} gave {got:?}"
    );
}

/// Fixed with the finding above, kept as a regression test: every other
/// answer Microsoft promises as an object was read through serde's derive
/// too, and took arrays the same way. A `$batch` answer of `[[]]` was no
/// answer at all, a directory list of arrays a list of nobody, and a token
/// answer of `["...", "Bearer", 3600]` a sign-in.
#[test]
fn json_arrays_are_refused_for_every_other_answer() {
    const A: &str = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";
    for body in [
        "[[]]".to_string(),
        r#"{"responses":[["1",200,{},{}]]}"#.to_string(),
    ] {
        let got = parse_batch_answer(body.as_bytes());
        assert!(
            matches!(got, Err(Error::Malformed(_))),
            "{body} gave {got:?}"
        );
    }

    // A response's body read as a type, and Graph's error body.
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct User {
        id: String,
    }
    let positional: BatchResponse =
        serde_json::from_value(json!({"id": "1", "status": 200, "body": [A]})).unwrap();
    let got = positional.json::<User>();
    assert!(matches!(got, Err(Error::Malformed(_))), "{got:?}");
    let error: BatchResponse = serde_json::from_value(
        json!({"id": "1", "status": 403, "body": {"error": ["Forbidden", "Not yours"]}}),
    )
    .unwrap();
    match error.json::<Value>() {
        // The status's own words, not a message made of an array.
        Err(Error::Graph {
            status: 403,
            code,
            message,
        }) => {
            assert_eq!((code.as_str(), message.as_str()), ("", "Forbidden"));
        }
        other => panic!("{other:?}"),
    }

    let dir = tempfile::tempdir().unwrap();
    on_runtime(async {
        // Directory lists and objects, through the Graph client.
        let graph = CannedService::start(vec![
            (
                "/me/directReports",
                200,
                format!(r#"{{"value":[["{A}","Megan Bowen"]]}}"#).into_bytes(),
            ),
            (
                "/me/manager",
                200,
                format!(r#"["{A}","Megan Bowen"]"#).into_bytes(),
            ),
            (
                "/me/people",
                200,
                format!(
                    r#"{{"value":[{{"id":"{A}","personType":["Person","OrganizationUser"]}}]}}"#
                )
                .into_bytes(),
            ),
        ])
        .await;
        let client =
            GraphClient::new(&graph.settings(dir.path()), FixedToken::new("token")).unwrap();
        let directory = Directory::new(client, dir.path().join("photos"));
        let reports = directory.direct_reports().await;
        assert!(matches!(reports, Err(Error::Malformed(_))), "{reports:?}");
        let manager = directory.manager().await;
        assert!(matches!(manager, Err(Error::Malformed(_))), "{manager:?}");
        let people = directory.people(10).await;
        assert!(matches!(people, Err(Error::Malformed(_))), "{people:?}");

        // Token answers, through the sign-in service.
        let code = device_code_body(json!(900), json!(1))
            .to_string()
            .into_bytes();
        let token = br#"["eyJ0eXAiOiJKV1QifQ.e30.c2ln","Bearer",3600]"#.to_vec();
        let flow = canned_flow(dir.path(), (200, code), (200, token)).await;
        let code = flow.start().await.unwrap();
        match flow.wait(&code).await {
            Err(Error::SignInFailed(why)) => assert!(why.contains("could not be read"), "{why}"),
            other => panic!("{other:?}"),
        }
    });
}

/// Fixed, kept as a regression test. A file saved as "UTF-8 with BOM" (Windows PowerShell 5's `Set-Content
/// -Encoding UTF8` and `Out-File -Encoding utf8`, Notepad's "UTF-8 with
/// BOM") starts with U+FEFF, which is not white space: the first ID is read
/// as `"\u{feff}fa8b..."` and skipped as "not a user object ID".
#[test]
fn a_bom_does_not_hide_the_first_id_of_an_ids_file() {
    let dir = dir_with(
        "ids.txt",
        "\u{feff}fa8bf3dc-eca7-46b7-bad1-db199b62afc3\r\n66825e03-7ef5-42da-9069-724602c31f6b\r\n"
            .as_bytes(),
    );
    let ids = ids_from_file(&dir.path().join("ids.txt")).unwrap();
    let valid: Vec<String> = ids.iter().filter_map(|i| normalize_user_id(i)).collect();
    assert_eq!(
        valid,
        [
            "fa8bf3dc-eca7-46b7-bad1-db199b62afc3",
            "66825e03-7ef5-42da-9069-724602c31f6b"
        ],
        "read {ids:?}"
    );
}

/// Clock times as "H:MM" or "HH:MM", with stray spaces.
fn clock_text() -> impl Strategy<Value = String> {
    (" {0,2}", 0u32..30, 0u32..70, any::<bool>(), " {0,2}").prop_map(|(a, h, m, pad, b)| {
        if pad {
            format!("{a}{h:02}:{m:02}{b}")
        } else {
            format!("{a}{h}:{m:02}{b}")
        }
    })
}

proptest! {
    #![proptest_config(config(FILES))]

    /// Quiet hours as typed in the window: parsed or refused in words (with
    /// no escape sequence of the input in them), never a panic. What parses
    /// is saved in `config.toml`, read back equal, and prints as "HH:MM"
    /// that parses again to the same.
    #[test]
    fn quiet_hours_parse_save_and_read_back(
        enabled in any::<bool>(),
        start in prop_oneof![3 => clock_text(), 1 => hostile_string()],
        end in prop_oneof![3 => clock_text(), 1 => hostile_string()],
    ) {
        match QuietHoursSetting::parse(enabled, &start, &end) {
            Ok(q) => {
                prop_assert_eq!(q.hours().is_some(), enabled);
                let (s, e) = (QuietHoursSetting::clock(q.start), QuietHoursSetting::clock(q.end));
                prop_assert_eq!(QuietHoursSetting::parse(enabled, &s, &e).unwrap(), q);
                let dir = tempfile::tempdir().unwrap();
                let here = Overrides {
                    config_dir: Some(dir.path().to_path_buf()),
                    ..Default::default()
                };
                let mut change = SettingsChange::from(&Settings::resolve(&here).unwrap());
                change.quiet_hours = q;
                change.save(dir.path()).unwrap();
                prop_assert_eq!(Settings::resolve(&here).unwrap().quiet_hours, q);
            }
            Err(e) => {
                prop_assert_eq!(e.code(), "config");
                let message = e.to_string();
                prop_assert!(!message.contains('\u{1b}'), "{message:?}");
            }
        }
    }

    /// Quiet hours as written in `config.toml`, of any shape: they resolve,
    /// or the problem names a `quiet_hours` key on a line of the file.
    #[test]
    fn quiet_hours_in_the_file_resolve_or_name_the_key(
        enabled in prop_oneof![Just("true".to_string()), toml_value().prop_map(|v| v.to_string())],
        start in prop_oneof![clock_text().prop_map(|s| toml_str(&s)), toml_value().prop_map(|v| v.to_string())],
        end in prop_oneof![clock_text().prop_map(|s| toml_str(&s)), hostile_string().prop_map(|s| toml_str(&s))],
    ) {
        let text = format!("[quiet_hours]\nenabled = {enabled}\nstart = {start}\nend = {end}\n");
        let dir = dir_with(CONFIG_FILE, text.as_bytes());
        match Settings::resolve(&Overrides {
            config_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        }) {
            Ok(s) => {
                let q = s.quiet_hours;
                let again = QuietHoursSetting::parse(
                    q.enabled,
                    &QuietHoursSetting::clock(q.start),
                    &QuietHoursSetting::clock(q.end),
                );
                prop_assert_eq!(again.unwrap(), q);
            }
            Err(Error::ConfigFile(problem)) => {
                let key = problem.key.clone().unwrap_or_default();
                // Not TOML (a value that does not parse) names only the line.
                prop_assert!(key.is_empty() || key.starts_with("quiet_hours"), "{problem}");
                let lines = text.lines().count();
                prop_assert!(problem.line.is_some_and(|l| (1..=lines).contains(&l)), "{problem}");
            }
            Err(e) => prop_assert!(false, "{e:?}"),
        }
    }
}

/// Fixed, kept as a regression test. `Roster::add` took a teammate whose ID
/// is blank, and `save` wrote `id = ""`; the next load refused the file
/// ("teammate number N has no id"), kept it aside and started with an empty
/// roster: every teammate was gone until the user repaired the file. A
/// directory answer without an ID would have done it. Now `add` refuses it
/// (`Added::NoId`).
#[test]
fn a_blank_id_is_not_added_and_the_roster_survives() {
    let dir = tempfile::tempdir().unwrap();
    let mut roster = Roster::load(dir.path()).unwrap();
    roster.add(Teammate::new("fa8bf3dc-eca7-46b7-bad1-db199b62afc3"));
    roster.add(Teammate::new(" "));
    // Either refused when added or when saved, or read back: never lost.
    if roster.save().is_ok() {
        let back = Roster::load(dir.path()).unwrap();
        assert!(back.recovery().is_none(), "{:?}", back.recovery());
        assert!(back.get("fa8bf3dc-eca7-46b7-bad1-db199b62afc3").is_some());
    }
}

/// Fixed, kept as a regression test. `clean_text` reserved `raw.len().min(max_chars * 4)` bytes: a `max_chars`
/// above `usize::MAX / 4` overflows, which panics in debug builds ("attempt to
/// multiply with overflow", src/watch.rs). Callers pass small constants.
#[test]
fn clean_text_takes_any_limit() {
    assert_eq!(clean_text("abc", usize::MAX), "abc");
}

/// Fixed, kept as a regression test. `config.toml` and `roster.toml` were
/// read with `toml` 0.8 (`toml_edit` 0.20), whose nesting limit was too deep
/// for the stack frames of a debug build: on a thread with a 2 MiB stack (a
/// test thread, a tokio worker) an unclosed `x = {a={a=...` about 100 deep,
/// or `x = [[[...` about 200 deep, overflowed the stack and aborted the
/// process. `toml` 1 stops at its limit with an error.
///
/// An overflow aborts the whole test binary, so the file is read in a child
/// process: this very test, run again with `PRESENTLY_DEEP_TOML` set.
#[test]
fn deeply_nested_toml_is_refused_without_overflowing_the_stack() {
    const NAME: &str = "deeply_nested_toml_is_refused_without_overflowing_the_stack";
    if let Some(which) = std::env::var_os("PRESENTLY_DEEP_TOML") {
        let text = match which.to_str() {
            Some("inline") => format!("x = {}", "{a=".repeat(1000)),
            _ => format!("x = {}", "[".repeat(1000)),
        };
        let reader = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let dir = dir_with(CONFIG_FILE, text.as_bytes());
                assert!(ConfigFile::load(dir.path()).is_err());
                fs::write(dir.path().join(ROSTER_FILE), &text).unwrap();
                assert!(Roster::load(dir.path()).unwrap().recovery().is_some());
            })
            .unwrap();
        reader.join().unwrap();
        return;
    }
    for which in ["inline", "array"] {
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--test-threads=1"])
            .env("PRESENTLY_DEEP_TOML", which)
            .output()
            .unwrap();
        assert!(
            child.status.success(),
            "{which}: {}\n{}",
            child.status,
            String::from_utf8_lossy(&child.stderr)
        );
    }
}

/// Fixed, kept as a regression test. `toml` (0.8) gave an empty `message()`
/// for some mistakes (and any version may again): a key with `=`
/// and no value at the end of the file, a CR that is not part of a CRLF (a
/// file from an old Mac, mixed line ends), a control character in a comment
/// (a stray DEL, NUL or escape from a bad paste). The roster is then kept
/// aside "(, line 1)" and the config error ends in "could not be read: ",
/// which tells people nothing of what to fix.
#[test]
fn toml_errors_always_give_a_reason() {
    for text in [
        "tenant =",
        "\r",
        "# Presently\rtenant = \"common\"\r",
        "# a\u{7f}\n",
        "tenant = \"common\"\n# \u{1b}[2J\n",
    ] {
        let dir = dir_with(ROSTER_FILE, text.as_bytes());
        let roster = Roster::load(dir.path()).unwrap();
        let reason = &roster.recovery().unwrap().reason;
        let words = reason.split(", line ").next().unwrap();
        assert!(!words.trim().is_empty(), "{text:?}: {reason:?}");

        let dir = dir_with(CONFIG_FILE, text.as_bytes());
        let message = ConfigFile::load(dir.path()).unwrap_err().to_string();
        let words = message.rsplit("could not be read: ").next().unwrap();
        assert!(!words.trim().is_empty(), "{text:?}: {message:?}");
    }
}

/// Fixed, kept as a regression test. A Graph error's message was shown as
/// Graph wrote it: `Error::Graph`'s text
/// (which the engine puts in its status, and `presently watch` prints as is)
/// keeps escape sequences and bidi overrides from the answer's body, while
/// every other text from the server is cleaned before it is shown (labels of
/// unknown values, notes, names). A proxy or a broken answer can rewrite the
/// user's terminal.
#[test]
fn graph_error_messages_reach_the_terminal_as_text() {
    let answer: BatchResponse = serde_json::from_value(json!({
        "id": "1",
        "status": 500,
        "body": {"error": {"code": "x", "message": "Oops\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}"}},
    }))
    .unwrap();
    let shown = answer.json::<Value>().unwrap_err().to_string();
    assert!(!shown.chars().any(is_unsafe_char), "{shown:?}");
}

/// Found by `graph_error_bodies_round_trip`: a message that is not blank
/// but holds nothing except control characters (`"\u0000"`, an escape) was
/// cleaned to nothing, and the error read "Microsoft Graph answered 400: "
/// with no words at all. It now gives the status's words, as a body
/// without a message does.
#[test]
fn a_graph_error_message_of_control_characters_is_not_blank() {
    // JSON escapes, as Graph would write them.
    for message in [r"\u0000", r"\u001b", r"\u001b\u0007 \u202e"] {
        let body = format!(r#"{{"error":{{"code":"Forbidden","message":"{message}"}}}}"#);
        match parse_error_body(403, body.as_bytes()) {
            Error::Graph {
                status: 403,
                message,
                ..
            } => assert_eq!(message, "Forbidden"),
            other => panic!("{other:?}"),
        }
    }
}

/// Found by `batch_answers_never_panic`: a 2xx response in a `$batch`
/// answer with no body at all. Reading it is Malformed (Graph promises an
/// object), never a panic and never an empty success.
#[test]
fn a_batch_response_without_a_body_is_malformed() {
    let responses =
        parse_batch_answer(br#"{"responses":[{"headers":{},"id":"","status":200}]}"#).unwrap();
    assert_eq!(responses.len(), 1);
    assert!(matches!(
        responses[0].json::<Value>(),
        Err(Error::Malformed(_))
    ));
}
