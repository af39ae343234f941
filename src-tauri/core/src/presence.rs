//! Graph's presence answer, typed.
//!
//! Parsing is tolerant where Graph is loose (extra fields, `null`s, new enum
//! values, any letter case) and strict where the API makes a promise: the answer
//! is an object with a `value` array of objects that each carry a string `id`.
//! Anything else is [`Error::Malformed`], so that a broken answer can never be
//! mistaken for "everyone went offline".

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::http::Object;

/// Most IDs `getPresencesByUserId` accepts in one request.
pub const MAX_IDS_PER_REQUEST: usize = 650;

macro_rules! graph_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($variant:ident => $wire:literal, $label:literal;)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)+
            /// A value this version does not know, kept exactly as Graph sent it.
            Other(String),
        }

        impl $name {
            /// Parses Graph's spelling in any letter case; never fails.
            pub fn parse(raw: &str) -> $name {
                $(if raw.eq_ignore_ascii_case($wire) {
                    return $name::$variant;
                })+
                $name::Other(raw.to_string())
            }

            /// Graph's spelling (PascalCase for the documented values).
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Other(raw) => raw,
                }
            }

            /// Words for people, as Teams writes them.
            pub fn label(&self) -> String {
                match self {
                    $($name::$variant => $label.to_string(),)+
                    $name::Other(raw) => words_from_identifier(raw),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(raw: &str) -> $name {
                $name::parse(raw)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<$name, D::Error> {
                struct V;
                impl Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }
                    // Borrowing the &str avoids an allocation for every known
                    // value: 10,000 of these arrive every poll.
                    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<$name, E> {
                        Ok($name::parse(v))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

graph_enum! {
    /// How reachable someone is: the coloured dot.
    Availability {
        Available => "Available", "Available";
        AvailableIdle => "AvailableIdle", "Available, idle";
        Away => "Away", "Away";
        BeRightBack => "BeRightBack", "Be right back";
        Busy => "Busy", "Busy";
        BusyIdle => "BusyIdle", "Busy, idle";
        DoNotDisturb => "DoNotDisturb", "Do not disturb";
        Offline => "Offline", "Offline";
        PresenceUnknown => "PresenceUnknown", "Unknown";
    }
}

graph_enum! {
    /// What someone is doing: the words beside the dot.
    Activity {
        Available => "Available", "Available";
        Away => "Away", "Away";
        BeRightBack => "BeRightBack", "Be right back";
        Busy => "Busy", "Busy";
        DoNotDisturb => "DoNotDisturb", "Do not disturb";
        InACall => "InACall", "In a call";
        InAConferenceCall => "InAConferenceCall", "In a conference call";
        Inactive => "Inactive", "Inactive";
        InAMeeting => "InAMeeting", "In a meeting";
        Offline => "Offline", "Offline";
        OffWork => "OffWork", "Off work";
        OutOfOffice => "OutOfOffice", "Out of office";
        PresenceUnknown => "PresenceUnknown", "Unknown";
        Presenting => "Presenting", "Presenting";
        UrgentInterruptionsOnly => "UrgentInterruptionsOnly", "Urgent interruptions only";
    }
}

/// "focusing" -> "Focusing", "inAWorkshop" -> "In a workshop": readable words
/// for values Graph added after this version was written.
fn words_from_identifier(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 4);
    // An unknown value comes from the server: it must not carry escape
    // sequences or direction overrides to a terminal or a notification.
    let shown = raw.chars().filter(|c| !crate::text::is_unsafe(*c)).take(60);
    for (i, c) in shown.enumerate() {
        if c == '_' || c == '-' {
            out.push(' ');
        } else if i == 0 {
            out.extend(c.to_uppercase());
        } else if c.is_uppercase() {
            out.push(' ');
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Someone's automatic-reply state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutOfOffice {
    pub is_out_of_office: bool,
    /// Written by the person it belongs to: untrusted text, never HTML.
    pub message: Option<String>,
}

/// Where someone says they work today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkLocation {
    /// `unspecified`, `office`, `remote`, `timeOff`, or a newer value as sent.
    pub work_location_type: Option<String>,
    pub source: Option<String>,
    pub place_id: Option<String>,
}

/// One person's presence as Graph last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    /// The user's object ID, lower-case.
    pub id: String,
    pub availability: Availability,
    pub activity: Activity,
    /// The status note the person wrote, as text (HTML from Teams is read
    /// as its text when parsed): untrusted, never shown as HTML.
    pub status_message: Option<String>,
    pub out_of_office: Option<OutOfOffice>,
    /// Graph's version stamp; sorts lexicographically.
    pub sequence_number: Option<String>,
    pub work_location: Option<WorkLocation>,
}

impl Presence {
    /// The presence of someone Graph said nothing about.
    pub fn unknown(id: impl Into<String>) -> Presence {
        Presence {
            id: id.into(),
            availability: Availability::PresenceUnknown,
            activity: Activity::PresenceUnknown,
            status_message: None,
            out_of_office: None,
            sequence_number: None,
            work_location: None,
        }
    }

    /// True when someone looking at the two would see a difference: the dot,
    /// the activity, the status note or the out-of-office state. A new
    /// `sequenceNumber` or work location alone is not a change people notice.
    pub fn differs_from(&self, other: &Presence) -> bool {
        self.availability != other.availability
            || self.activity != other.activity
            || self.status_message != other.status_message
            || self.out_of_office != other.out_of_office
    }

    /// True when `self` carries an older version stamp than `held`, so that
    /// applying it would move backwards in time. Without a stamp on either
    /// side nothing can be said, and the answer is taken.
    pub fn is_older_than(&self, held: &Presence) -> bool {
        match (&self.sequence_number, &held.sequence_number) {
            (Some(new), Some(old)) => new.as_str() < old.as_str(),
            _ => false,
        }
    }

    /// True when the person is out of office by either sign Graph gives.
    pub fn is_out_of_office(&self) -> bool {
        self.activity == Activity::OutOfOffice
            || self
                .out_of_office
                .as_ref()
                .is_some_and(|o| o.is_out_of_office)
    }
}

/// `Presence` as Graph writes it. Every field but `id` may be missing or null.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WirePresence {
    id: String,
    availability: Option<Availability>,
    activity: Option<Activity>,
    status_message: Option<Object<WireStatusMessage>>,
    out_of_office_settings: Option<Object<WireOutOfOffice>>,
    sequence_number: Option<String>,
    work_location: Option<Object<WorkLocation>>,
}

#[derive(Deserialize)]
struct WireStatusMessage {
    message: Option<Object<WireItemBody>>,
}

/// An `itemBody`: `contentType` is `text` or `html` (what Teams writes).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireItemBody {
    content: Option<String>,
    #[serde(default)]
    content_type: ContentType,
}

/// Whether an `itemBody` is HTML, read without keeping the word: a string
/// allocated for every message of every poll left the heap of `watch` with
/// 10,000 teammates 3 MiB larger (bench/watch-10k).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct ContentType {
    html: bool,
}

impl<'de> Deserialize<'de> for ContentType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Word;
        impl<'de> Visitor<'de> for Word {
            type Value = ContentType;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a content type")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<ContentType, E> {
                Ok(ContentType {
                    html: v.eq_ignore_ascii_case("html"),
                })
            }
            fn visit_unit<E: de::Error>(self) -> std::result::Result<ContentType, E> {
                Ok(ContentType::default())
            }
        }
        d.deserialize_any(Word)
    }
}

impl WireItemBody {
    /// The words a person wrote. HTML becomes its text here, once, so that
    /// the window, notifications, `watch` and `publish` show the same; text
    /// stays as it came (it is text: `&amp;` in it is what was typed).
    fn text(self) -> Option<String> {
        let content = self.content?;
        Some(if self.content_type.html {
            crate::html_text::html_to_text(&content)
        } else {
            content
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireOutOfOffice {
    is_out_of_office: Option<bool>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct WireAnswer {
    value: Vec<Object<WirePresence>>,
}

/// The longest status note or out-of-office message kept, in characters:
/// Teams takes 280 for a note, but Graph passes on whatever was set, and an
/// automatic reply can be a page long. Longer text is cut there and says so
/// ([`CUT_MARK`]), so that 10,000 teammates' notes cannot fill memory and
/// every presence fits in one MQTT message.
pub const MAX_NOTE_CHARS: usize = 4_000;
/// What ends a note that was cut at [`MAX_NOTE_CHARS`].
pub const CUT_MARK: &str = " [… cut at 4,000 characters]";

/// `text`, cut at [`MAX_NOTE_CHARS`] with [`CUT_MARK`] when longer.
fn capped(text: String) -> String {
    match text.char_indices().nth(MAX_NOTE_CHARS) {
        None => text,
        Some((end, _)) => {
            let mut cut = text;
            cut.truncate(end);
            cut.truncate(cut.trim_end().len());
            cut.push_str(CUT_MARK);
            cut
        }
    }
}

impl From<WirePresence> for Presence {
    fn from(w: WirePresence) -> Presence {
        let id = if w.id.bytes().any(|b| b.is_ascii_uppercase()) {
            w.id.to_ascii_lowercase()
        } else {
            w.id
        };
        Presence {
            id,
            availability: w.availability.unwrap_or(Availability::PresenceUnknown),
            activity: w.activity.unwrap_or(Activity::PresenceUnknown),
            status_message: w
                .status_message
                .and_then(|Object(s)| s.message)
                .and_then(|Object(m)| m.text())
                // An empty note is no note: Teams shows nothing either.
                .filter(|c| !c.trim().is_empty())
                .map(capped),
            out_of_office: w.out_of_office_settings.and_then(|Object(o)| {
                let message = o.message.filter(|m| !m.trim().is_empty()).map(capped);
                // "Not out of office, no message" is what Graph says for
                // almost everyone; folding it into None keeps an answer that
                // omits the object from looking like a change.
                match (o.is_out_of_office.unwrap_or(false), message) {
                    (false, None) => None,
                    (is, message) => Some(OutOfOffice {
                        is_out_of_office: is,
                        message,
                    }),
                }
            }),
            sequence_number: w.sequence_number.filter(|s| !s.is_empty()),
            work_location: w.work_location.map(|Object(l)| l),
        }
    }
}

/// Parses the body of a `getPresencesByUserId` answer.
pub fn parse_presences(body: &[u8]) -> Result<Vec<Presence>> {
    let Object(answer) = serde_json::from_slice::<Object<WireAnswer>>(body).map_err(|e| {
        Error::Malformed(format!(
            "the presence answer is not in the promised shape ({e})"
        ))
    })?;
    Ok(answer
        .value
        .into_iter()
        .map(|Object(p)| Presence::from(p))
        .collect())
}

/// Parses the body of `GET /me/presence` (one presence object).
pub fn parse_presence(body: &[u8]) -> Result<Presence> {
    let Object(wire) = serde_json::from_slice::<Object<WirePresence>>(body).map_err(|e| {
        Error::Malformed(format!(
            "the presence answer is not in the promised shape ({e})"
        ))
    })?;
    Ok(wire.into())
}

/// True for a user object ID as Graph writes it: a GUID in the 8-4-4-4-12
/// hyphenated form, in any letter case.
pub fn is_user_id(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The canonical (trimmed, lower-case) form of a user object ID, or `None`
/// when it is not one. Graph answers with lower-case IDs, so the engine keys
/// everything by this form.
pub fn normalize_user_id(raw: &str) -> Option<String> {
    let t = raw.trim();
    is_user_id(t).then(|| t.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "fa8bf3dc-eca7-46b7-bad1-db199b62afc3";
    const B: &str = "66825e03-7ef5-42da-9069-724602c31f6b";

    #[test]
    fn parses_the_documented_example() {
        let body = format!(
            r#"{{"value":[{{"id":"{A}","availability":"Busy","activity":"InAMeeting"}},
                          {{"id":"{B}","availability":"Away","activity":"Away"}}]}}"#
        );
        let p = parse_presences(body.as_bytes()).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].id, A);
        assert_eq!(p[0].availability, Availability::Busy);
        assert_eq!(p[0].activity, Activity::InAMeeting);
        assert_eq!(p[1].availability, Availability::Away);
        assert_eq!(p[1].status_message, None);
    }

    #[test]
    fn out_of_office_is_the_flag_with_or_without_a_message() {
        let read = |settings: serde_json::Value| {
            let body = serde_json::json!({"value": [{
                "id": "a", "availability": "Available", "activity": "Available",
                "outOfOfficeSettings": settings,
            }]});
            parse_presences(body.to_string().as_bytes())
                .unwrap()
                .remove(0)
        };
        let away = read(serde_json::json!({"isOutOfOffice": true, "message": null}));
        assert!(away.is_out_of_office());
        assert_eq!(away.out_of_office.unwrap().message, None);
        let away = read(serde_json::json!({"message": "Back Monday", "isOutOfOffice": true}));
        assert!(away.is_out_of_office());
        // A reply left set after coming back is not out of office.
        let back = read(serde_json::json!({"isOutOfOffice": false, "message": "Back Monday"}));
        assert!(!back.is_out_of_office());
        let back = read(serde_json::json!({"isOutOfOffice": false, "message": null}));
        assert!(!back.is_out_of_office());
        assert_eq!(back.out_of_office, None);
    }

    #[test]
    fn long_notes_and_automatic_replies_are_cut_and_say_so() {
        // 20 KB of plain text, as a colleague once set; and a reply in a
        // script of several bytes per character.
        let note = "word ".repeat(4_000);
        let reply = "ü".repeat(MAX_NOTE_CHARS + 1);
        let body = serde_json::json!({"value": [{
            "id": "a",
            "availability": "Away",
            "activity": "Away",
            "statusMessage": {"message": {"content": note, "contentType": "text"}},
            "outOfOfficeSettings": {"isOutOfOffice": true, "message": reply},
        }]});
        let p = &parse_presences(body.to_string().as_bytes()).unwrap()[0];
        let note = p.status_message.as_deref().unwrap();
        assert!(note.ends_with(CUT_MARK), "{note}");
        assert_eq!(
            note.chars().count(),
            MAX_NOTE_CHARS - 1 + CUT_MARK.chars().count()
        );
        let reply = p
            .out_of_office
            .as_ref()
            .unwrap()
            .message
            .as_deref()
            .unwrap();
        assert_eq!(reply, format!("{}{CUT_MARK}", "ü".repeat(MAX_NOTE_CHARS)));
        assert!(CUT_MARK.contains("4,000") && MAX_NOTE_CHARS == 4_000);
        // Up to the limit, a note is whole.
        let whole = "x".repeat(MAX_NOTE_CHARS);
        assert_eq!(capped(whole.clone()), whole);
    }

    #[test]
    fn enums_are_case_insensitive_and_keep_unknown_values() {
        assert_eq!(
            Availability::parse("doNotDisturb"),
            Availability::DoNotDisturb
        );
        assert_eq!(Activity::parse("INAMEETING"), Activity::InAMeeting);
        assert_eq!(Activity::parse("inACall").as_str(), "InACall");
        let focusing = Activity::parse("focusing");
        assert_eq!(focusing, Activity::Other("focusing".into()));
        let hostile = Availability::parse("Busy\u{1b}[2J\u{1b}]0;owned\u{7}\u{202E}x");
        assert!(
            !hostile
                .label()
                .chars()
                .any(|c| c.is_control() || c == '\u{202E}'),
            "{:?}",
            hostile.label()
        );
        assert_eq!(focusing.as_str(), "focusing");
        assert_eq!(focusing.label(), "Focusing");
        assert_eq!(Activity::parse("inAWorkshop").label(), "In a workshop");
        assert_eq!(Activity::InAMeeting.label(), "In a meeting");
        assert_eq!(
            serde_json::to_string(&Availability::Other("Lunch".into())).unwrap(),
            "\"Lunch\""
        );
    }

    #[test]
    fn reads_every_field_and_ignores_extra_ones_and_nulls() {
        let body = format!(
            r##"{{"@odata.context":"x","value":[{{
                "@odata.type":"#microsoft.graph.presence",
                "id":"{}",
                "availability":"Busy","activity":"presenting",
                "statusMessage":{{"message":{{"content":"<b>Back at 3</b>","contentType":"html"}},
                                  "expiryDateTime":null,"publishedDateTime":null}},
                "outOfOfficeSettings":{{"isOutOfOffice":true,"message":"On leave"}},
                "sequenceNumber":"C2B8A7","workLocation":{{"workLocationType":"remote","source":"manual","placeId":null}},
                "brandNewField":{{"nested":[1,2,3]}}
            }},{{"id":"{B}","availability":null,"activity":null,"statusMessage":null,
                 "outOfOfficeSettings":null,"sequenceNumber":null,"workLocation":null}}]}}"##,
            A.to_uppercase()
        );
        let p = parse_presences(body.as_bytes()).unwrap();
        assert_eq!(p[0].id, A, "IDs are keyed lower-case");
        assert_eq!(p[0].activity, Activity::Presenting);
        // HTML is read as its text; no markup is left to show.
        assert_eq!(p[0].status_message.as_deref(), Some("Back at 3"));
        assert_eq!(
            p[0].out_of_office,
            Some(OutOfOffice {
                is_out_of_office: true,
                message: Some("On leave".into())
            })
        );
        assert!(p[0].is_out_of_office());
        assert_eq!(p[0].sequence_number.as_deref(), Some("C2B8A7"));
        assert_eq!(
            p[0].work_location
                .as_ref()
                .unwrap()
                .work_location_type
                .as_deref(),
            Some("remote")
        );
        assert_eq!(p[1], Presence::unknown(B));
    }

    #[test]
    fn the_wrong_shape_is_malformed() {
        for body in [
            "",
            "not json",
            "[]",
            "{}",
            r#"{"value":null}"#,
            r#"{"value":{"id":"x"}}"#,
            r#"{"value":[{"availability":"Busy"}]}"#,
            r#"{"value":[{"id":42}]}"#,
            r#"{"value":[{"id":"a","availability":7}]}"#,
            r#"{"value":["a"]}"#,
            r#"{"value":[{"id":"a","outOfOfficeSettings":"yes"}]}"#,
        ] {
            let err = parse_presences(body.as_bytes()).unwrap_err();
            assert!(matches!(err, Error::Malformed(_)), "{body:?} gave {err:?}");
        }
    }

    #[test]
    fn an_empty_value_is_a_valid_answer() {
        assert!(parse_presences(br#"{"value":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn user_ids_are_hyphenated_guids() {
        assert!(is_user_id(A));
        assert!(is_user_id(&A.to_uppercase()));
        assert_eq!(
            normalize_user_id(&format!("  {}\t", A.to_uppercase())).as_deref(),
            Some(A)
        );
        for bad in [
            "",
            "megan@contoso.com",
            "fa8bf3dceca746b7bad1db199b62afc3",
            "{fa8bf3dc-eca7-46b7-bad1-db199b62afc3}",
            "fa8bf3dc-eca7-46b7-bad1-db199b62afcg",
            "fa8bf3dc-eca7-46b7-bad1-db199b62afc",
            "fa8bf3dc-eca7-46b7-bad1-db199b62afc3a",
            "fa8bf3dc_eca7-46b7-bad1-db199b62afc3",
        ] {
            assert!(!is_user_id(bad), "{bad}");
            assert_eq!(normalize_user_id(bad), None);
        }
    }

    #[test]
    fn differences_people_notice() {
        let mut a = Presence::unknown(A);
        a.availability = Availability::Busy;
        a.activity = Activity::InACall;
        a.sequence_number = Some("1".into());
        let mut b = a.clone();
        b.sequence_number = Some("2".into());
        b.work_location = Some(WorkLocation {
            work_location_type: Some("office".into()),
            source: None,
            place_id: None,
        });
        assert!(!b.differs_from(&a), "a new stamp alone is not a change");
        b.status_message = Some("lunch".into());
        assert!(b.differs_from(&a));
        let mut c = a.clone();
        c.out_of_office = Some(OutOfOffice {
            is_out_of_office: true,
            message: None,
        });
        assert!(c.differs_from(&a));
        let mut d = a.clone();
        d.activity = Activity::InAMeeting;
        assert!(d.differs_from(&a));
    }

    #[test]
    fn sequence_numbers_compare_lexicographically() {
        let mut held = Presence::unknown(A);
        held.sequence_number = Some("C2B8".into());
        let mut new = held.clone();
        new.sequence_number = Some("C2B7".into());
        assert!(new.is_older_than(&held));
        new.sequence_number = Some("C2B8".into());
        assert!(!new.is_older_than(&held), "the same stamp is not older");
        new.sequence_number = Some("D".into());
        assert!(!new.is_older_than(&held));
        new.sequence_number = None;
        assert!(!new.is_older_than(&held));
    }

    #[test]
    fn html_notes_are_text_and_text_notes_stay_as_typed() {
        let body = format!(
            r#"{{"value":[
                {{"id":"{A}","statusMessage":{{"message":{{"contentType":"HTML",
                  "content":"<p>R&amp;D offsite<br>back <a href=\"https://x\">Monday</a></p>"}}}}}},
                {{"id":"{B}","statusMessage":{{"message":{{"contentType":"text",
                  "content":"<b>R&amp;D</b>"}}}}}}]}}"#
        );
        let p = parse_presences(body.as_bytes()).unwrap();
        assert_eq!(
            p[0].status_message.as_deref(),
            Some("R&D offsite\nback Monday")
        );
        assert_eq!(p[1].status_message.as_deref(), Some("<b>R&amp;D</b>"));
        // Markup with no words in it is no note, like an empty one.
        let body = format!(
            r#"{{"id":"{A}","statusMessage":{{"message":{{"contentType":"html","content":"<p><br></p>"}}}}}}"#
        );
        assert_eq!(
            parse_presence(body.as_bytes()).unwrap().status_message,
            None
        );
    }

    #[test]
    fn empty_notes_are_no_notes() {
        let body = format!(
            r#"{{"value":[{{"id":"{A}","availability":"Available","activity":"Available",
                "statusMessage":{{"message":{{"content":"  ","contentType":"text"}}}},
                "outOfOfficeSettings":{{"isOutOfOffice":false,"message":""}}}}]}}"#
        );
        let p = parse_presences(body.as_bytes()).unwrap();
        assert_eq!(p[0].status_message, None);
        assert_eq!(p[0].out_of_office, None);
        assert!(!p[0].is_out_of_office());
    }
}
