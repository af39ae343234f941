//! `presently publish`: the engine's presence sent on to a busy light, Home
//! Assistant or a script, over MQTT ([`mqtt`]) and as webhooks ([`webhook`]).
//!
//! It runs the engine exactly as `watch` does (same polling, same lines on
//! the terminal) and hands each person's presence to the targets as one JSON
//! object, [`person_json`]. Targets never hold up polling: each has its own
//! task and a queue that keeps only what is still worth sending.

pub mod mqtt;
pub mod webhook;

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::calendar::{Outlook, OutlookChange, Person};
use crate::engine::{Engine, EngineEvent, EngineOptions};
use crate::error::Result;
use crate::graph::GraphClient;
use crate::presence::Presence;
use crate::watch::{event_json, next_outlooks, outlook_fields, CalendarFeed, Printer};

pub use mqtt::{MqttPublisher, MqttTarget};
pub use webhook::{WebhookPublisher, WebhookTarget};

/// Whose presence a JSON object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// The signed-in user.
    Mine,
    /// A teammate being watched.
    Teammate,
}

/// The object sent for one person: the fields `watch --json` prints for a
/// presence (`id`, `availability`, `activity`, `statusMessage` as text,
/// `outOfOffice`, `workLocation`), plus `label` (the activity in words),
/// `me`, `tenant` and `at` (when this presence was seen); with
/// `--calendar`, the fields of `watch`'s `schedule` line too (`busy_until`,
/// `free_at`, `outside_working_hours`, `utc_offset_minutes`).
pub fn person_json(
    p: &Presence,
    whose: Whose,
    tenant: &str,
    at: &DateTime<Utc>,
    outlook: Option<&Outlook>,
) -> Value {
    // `watch`'s own presence object, so that the two never drift apart.
    let mut person = match event_json(&EngineEvent::OwnPresence(p.clone())) {
        Value::Object(mut event) => match event.remove("presence") {
            Some(Value::Object(fields)) => fields,
            _ => serde_json::Map::new(),
        },
        _ => serde_json::Map::new(),
    };
    person.insert("label".into(), json!(p.activity.label()));
    person.insert("me".into(), json!(whose == Whose::Mine));
    person.insert("tenant".into(), json!(tenant));
    person.insert(
        "at".into(),
        json!(at.to_rfc3339_opts(SecondsFormat::Millis, true)),
    );
    if let Some(outlook) = outlook {
        person.extend(outlook_fields(outlook));
    }
    Value::Object(person)
}

/// Where to send presence; at least one of the two.
#[derive(Debug, Default)]
pub struct Targets {
    pub mqtt: Option<MqttPublisher>,
    pub webhook: Option<WebhookPublisher>,
}

impl Targets {
    fn send(
        &self,
        p: &Presence,
        whose: Whose,
        tenant: &str,
        at: &DateTime<Utc>,
        outlook: Option<&Outlook>,
    ) {
        let body = person_json(p, whose, tenant, at, outlook);
        if let Some(mqtt) = &self.mqtt {
            mqtt.presence(&p.id, whose, &body);
        }
        if let Some(webhook) = &self.webhook {
            webhook.post(body);
        }
    }

    /// Everyone's presence, after the first complete poll: MQTT keeps a
    /// retained state per person, so it gets everyone; the webhook is told
    /// of changes only (a snapshot of a large roster would be a burst of
    /// requests nobody asked for).
    fn snapshot(
        &self,
        presences: &[Presence],
        tenant: &str,
        at: &DateTime<Utc>,
        calendar: &Calendar,
    ) {
        if let Some(mqtt) = &self.mqtt {
            for p in presences {
                mqtt.presence(
                    &p.id,
                    Whose::Teammate,
                    &person_json(p, Whose::Teammate, tenant, at, calendar.outlook(&p.id)),
                );
            }
        }
    }
}

/// With `--calendar`: the reader, each teammate's outlook, and their last
/// presence, so that a new outlook is sent with it.
#[derive(Default)]
struct Calendar {
    feed: Option<CalendarFeed>,
    outlooks: HashMap<String, Outlook>,
    last: HashMap<String, (Presence, DateTime<Utc>)>,
}

impl Calendar {
    /// With the calendar on, everyone has an outlook, empty until read.
    fn outlook(&self, id: &str) -> Option<&Outlook> {
        static NOTHING_KNOWN: Outlook = Outlook {
            busy_until: None,
            free_at: None,
            outside_working_hours: false,
            utc_offset_minutes: None,
        };
        self.feed
            .as_ref()
            .map(|_| self.outlooks.get(id).unwrap_or(&NOTHING_KNOWN))
    }

    fn saw(&mut self, p: &Presence, at: DateTime<Utc>) {
        if self.feed.is_some() {
            self.last.insert(p.id.clone(), (p.clone(), at));
        }
    }

    /// Takes in new outlooks; the teammates whose presence is known, to
    /// send again with them.
    fn take(&mut self, changes: Vec<OutlookChange>) -> Vec<(Presence, DateTime<Utc>)> {
        changes
            .into_iter()
            .filter_map(|c| {
                self.outlooks.insert(c.id.clone(), c.outlook);
                self.last.get(&c.id).cloned()
            })
            .collect()
    }
}

/// Polls `ids` as `watch` does, writes the same lines to `out`, and sends
/// every presence to `targets`. `tenant` names the tenant in topics and
/// JSON; the signed-in user's own presence comes with
/// [`EngineOptions::own_id`].
///
/// Runs until the future is dropped (Ctrl-C) or the sign-in is lost:
/// then the `signed_out` status has been written and the result is
/// `Err(Error::SignInNeeded)`.
///
/// With `calendar` (whose calendars to read), each teammate's object
/// carries their outlook, and is sent again when it changes.
#[allow(clippy::too_many_arguments)]
pub async fn run_publish<W: Write>(
    graph: GraphClient,
    ids: Vec<String>,
    options: EngineOptions,
    calendar: Option<Vec<Person>>,
    tenant: String,
    targets: Targets,
    printer: Printer,
    mut out: W,
) -> Result<()> {
    let mut calendar = Calendar {
        feed: calendar.map(|people| CalendarFeed::start(&graph, people)),
        ..Calendar::default()
    };
    let (tx, mut rx) = mpsc::channel(256);
    let run = Engine::new(graph, ids, options).run(tx);
    let handle = async {
        // Ends when the run does (it holds the sender) and every event,
        // the last signed_out status too, has been handled.
        loop {
            let event = tokio::select! {
                biased;
                event = rx.recv() => match event {
                    Some(event) => event,
                    None => break,
                },
                Some(outlooks) = next_outlooks(&mut calendar.feed) => {
                    match outlooks {
                        Ok(changes) => {
                            let now = Utc::now();
                            for change in &changes {
                                let _ = printer.write_outlook(change, &now, &mut out);
                            }
                            for (p, at) in calendar.take(changes) {
                                targets.send(&p, Whose::Teammate, &tenant, &at, calendar.outlook(&p.id));
                            }
                        }
                        Err(e) => tracing::warn!("the calendars could not be read: {e}"),
                    }
                    continue;
                }
            };
            if let Some(feed) = &calendar.feed {
                feed.saw(&event);
            }
            match &event {
                EngineEvent::Snapshot { at, presences } => {
                    for p in presences {
                        calendar.saw(p, *at);
                    }
                    if let Some(feed) = &mut calendar.feed {
                        let held = feed.snapshot_written();
                        calendar.take(held);
                    }
                    targets.snapshot(presences, &tenant, at, &calendar)
                }
                EngineEvent::Changed(c) => {
                    calendar.saw(&c.presence, c.at);
                    targets.send(
                        &c.presence,
                        Whose::Teammate,
                        &tenant,
                        &c.at,
                        calendar.outlook(&c.id),
                    )
                }
                EngineEvent::OwnPresence(p) => {
                    targets.send(p, Whose::Mine, &tenant, &Utc::now(), None)
                }
                EngineEvent::Status(_) | EngineEvent::InvalidIds { .. } => {}
            }
            // Unlike `watch`, the terminal is not what publish is for: one
            // that is gone or full must not stop the publishing.
            if let Err(e) = printer.write(&event, &mut out).and_then(|()| out.flush()) {
                tracing::debug!("Could not write to the terminal: {e}");
            }
        }
    };
    let (result, ()) = tokio::join!(run, handle);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presence::{Activity, Availability};

    #[test]
    fn a_person_carries_what_watch_prints_and_who_and_when() {
        let mut p = Presence::unknown("fa8bf3dc-eca7-46b7-bad1-db199b62afc3");
        p.availability = Availability::Busy;
        p.activity = Activity::InAMeeting;
        p.status_message = Some("R&D offsite\nback Monday".into());
        let at = DateTime::parse_from_rfc3339("2026-11-30T05:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let v = person_json(&p, Whose::Mine, "contoso", &at, None);
        assert_eq!(v["id"], "fa8bf3dc-eca7-46b7-bad1-db199b62afc3");
        assert_eq!(v["availability"], "Busy");
        assert_eq!(v["activity"], "InAMeeting");
        assert_eq!(v["label"], "In a meeting");
        assert_eq!(v["statusMessage"], "R&D offsite\nback Monday");
        assert_eq!(v["outOfOffice"], Value::Null);
        assert_eq!(v["me"], true);
        assert_eq!(v["tenant"], "contoso");
        assert_eq!(v["at"], "2026-11-30T05:00:00.000Z");
        let v = person_json(&p, Whose::Teammate, "contoso", &at, None);
        assert_eq!(v["me"], false);
        assert!(
            v.get("busy_until").is_none(),
            "no calendar fields without --calendar"
        );
        let outlook = Outlook {
            busy_until: Some(at + chrono::Duration::minutes(30)),
            ..Outlook::default()
        };
        let v = person_json(&p, Whose::Teammate, "contoso", &at, Some(&outlook));
        assert_eq!(v["busy_until"], "2026-11-30T05:30:00.000Z");
        assert_eq!(v["free_at"], Value::Null);
        assert_eq!(v["outside_working_hours"], false);
    }
}
