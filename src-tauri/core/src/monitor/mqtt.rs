//! Publishing presence to an MQTT broker (`[mqtt]`) while signed in.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::{self, Account};
use crate::broker::MqttSetting;
use crate::error::{Error, Result};
use crate::notify::Notification;
use crate::publish::{self, MqttPublisher, MqttTarget, Whose};
use crate::secret::Secret;

use super::{everyone, Monitor, MonitorEvent, State};

impl Monitor {
    /// Keeps the password of `setting`'s user at its broker in the keyring
    /// (the window's settings), where `presently publish` finds it too. When
    /// publishing to that broker already, it starts again with the new
    /// password (a change of the setting itself restarts it anyway).
    pub async fn keep_mqtt_password(
        self: &Arc<Self>,
        setting: &MqttSetting,
        password: String,
    ) -> Result<()> {
        let Some(user) = setting.username.clone() else {
            return Err(Error::InvalidInput(
                "A password needs a user name for the MQTT broker.".into(),
            ));
        };
        let entry = crate::broker::password_entry(&setting.url()?, &user);
        let store = self.store.clone();
        let password = Secret::new(password);
        auth::blocking(move || store.save(&entry, &password)).await?;
        let in_use = self.state.lock().unwrap().settings.mqtt.as_ref() == Some(setting);
        if in_use {
            self.start_mqtt();
        }
        Ok(())
    }

    /// Starts publishing to the broker of the settings, if any, for the
    /// signed-in account: in the background, as the broker may be away
    /// (it is tried again with backoff) and the keyring slow.
    pub(super) fn start_mqtt(self: &Arc<Self>) {
        let (setting, account) = {
            let mut state = self.state.lock().unwrap();
            state.mqtt = None;
            let account = state.session.as_ref().map(|s| s.account().clone());
            (state.settings.mqtt.clone(), account)
        };
        let (Some(setting), Some(account)) = (setting, account) else {
            return;
        };
        let me = self.clone();
        let task = tokio::spawn(async move {
            match me.mqtt_target(&setting, &account).await {
                Ok(target) => match MqttPublisher::start(target) {
                    Ok(publisher) => {
                        let mut state = me.state.lock().unwrap();
                        let mut publishing = Publishing {
                            publisher,
                            roster: state.roster.ids().into_iter().collect(),
                        };
                        // Everyone known so far; then each change as it comes.
                        let now = me.clock.now();
                        let mut known = Vec::new();
                        if let Some(p) = &state.me {
                            known.push(MonitorEvent::OwnPresence(Box::new(p.clone())));
                        }
                        known.push(MonitorEvent::Presence(everyone(&state, now)));
                        let seen = Seen::of(&state);
                        for event in &known {
                            let publications =
                                seen.publications(&mut publishing.roster, event, now);
                            publishing.send(publications);
                        }
                        state.mqtt = Some(publishing);
                    }
                    Err(e) => me.mqtt_failed(&e),
                },
                Err(e) => me.mqtt_failed(&e),
            }
        });
        self.state.lock().unwrap().tasks.push(task);
    }

    async fn mqtt_target(&self, setting: &MqttSetting, account: &Account) -> Result<MqttTarget> {
        let url = setting.check_plaintext()?;
        let password = match &setting.username {
            None => None,
            Some(user) => {
                let entry = crate::broker::password_entry(&url, user);
                let store = self.store.clone();
                let found = auth::blocking(move || store.load(&entry)).await?;
                Some(found.ok_or_else(|| {
                    Error::Config(format!(
                        "No password for {user} at the MQTT broker is kept yet: enter it in the settings."
                    ))
                })?)
            }
        };
        Ok(MqttTarget {
            url,
            username: setting.username.clone(),
            password,
            topic_prefix: setting.topic_prefix.clone(),
            tenant: account.tenant_key().to_string(),
            me: Some((account.id.clone(), account.display_name.clone())),
        })
    }

    fn mqtt_failed(&self, e: &Error) {
        tracing::warn!("presence is not published to MQTT: {e}");
        self.emit(MonitorEvent::Notify(Notification {
            title: "Presence is not published to MQTT".into(),
            body: e.to_string(),
            ids: Vec::new(),
        }));
    }
}

/// Publishing to a broker while signed in: the publisher, and the roster it
/// last heard of, to tell who left.
pub(super) struct Publishing {
    publisher: MqttPublisher,
    roster: HashSet<String>,
}

impl Publishing {
    fn send(&self, publications: Vec<Publication>) {
        for p in publications {
            match p {
                Publication::Presence { id, whose, body } => {
                    self.publisher.presence(&id, whose, &body)
                }
                Publication::Forget(id) => self.publisher.forget(&id),
            }
        }
    }
}

impl Monitor {
    /// Publishes what `event` says changed, while publishing to a broker:
    /// the monitor hands each of its events here before its front ends get
    /// it (never under the state's lock).
    pub(super) fn publish(&self, event: &MonitorEvent) {
        let mut state = self.state.lock().unwrap();
        let Some(mut publishing) = state.mqtt.take() else {
            return;
        };
        let publications =
            Seen::of(&state).publications(&mut publishing.roster, event, self.clock.now());
        publishing.send(publications);
        state.mqtt = Some(publishing);
    }
}

/// One message to the broker.
#[derive(Debug, Clone, PartialEq)]
enum Publication {
    /// `presently publish`'s object for this person (retained).
    Presence {
        id: String,
        whose: Whose,
        body: serde_json::Value,
    },
    /// They left the roster: their retained presence is cleared.
    Forget(String),
}

/// What publishing needs to know beside an event.
struct Seen {
    /// The signed-in account's tenant.
    tenant: String,
    /// A calendar reader runs: teammates are published with their outlook,
    /// empty until their calendar is read.
    calendar_read: bool,
}

impl Seen {
    fn of(state: &State) -> Seen {
        Seen {
            tenant: state
                .session
                .as_ref()
                .map(|s| s.account().tenant_key().to_string())
                .unwrap_or_default(),
            calendar_read: state.calendar.is_some(),
        }
    }

    /// What to publish for `event`, given the roster publishing last heard
    /// of (updated here): teammates whose presence is known, as it changes
    /// or their calendar does; your own presence as polled (not the one read
    /// back after you set it: the poll confirms that); and whoever left the
    /// roster, cleared.
    fn publications(
        &self,
        roster: &mut HashSet<String>,
        event: &MonitorEvent,
        now: DateTime<Utc>,
    ) -> Vec<Publication> {
        match event {
            MonitorEvent::Presence(changed) => changed
                .iter()
                .filter_map(|t| {
                    let (p, at) = (t.presence.as_ref()?, t.since?);
                    let outlook = self
                        .calendar_read
                        .then(|| t.outlook.clone().unwrap_or_default());
                    Some(Publication::Presence {
                        id: p.id.clone(),
                        whose: Whose::Teammate,
                        body: publish::person_json(
                            p,
                            Whose::Teammate,
                            &self.tenant,
                            &at,
                            outlook.as_ref(),
                        ),
                    })
                })
                .collect(),
            MonitorEvent::OwnPresence(p) => vec![Publication::Presence {
                id: p.id.clone(),
                whose: Whose::Mine,
                body: publish::person_json(p, Whose::Mine, &self.tenant, &now, None),
            }],
            MonitorEvent::Roster(everyone) => {
                let now_on: HashSet<String> =
                    everyone.iter().map(|t| t.teammate.id.clone()).collect();
                let mut gone: Vec<String> = roster.difference(&now_on).cloned().collect();
                gone.sort();
                *roster = now_on;
                gone.into_iter().map(Publication::Forget).collect()
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::calendar::Outlook;
    use crate::monitor::TeammateState;
    use crate::presence::{Activity, Availability, Presence};
    use crate::roster::Teammate;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 9, minute, 0).unwrap()
    }

    fn busy(id: &str) -> Presence {
        Presence {
            availability: Availability::parse("Busy"),
            activity: Activity::parse("InAMeeting"),
            ..Presence::unknown(id)
        }
    }

    fn teammate(id: &str, seen: Option<DateTime<Utc>>, outlook: Option<Outlook>) -> TeammateState {
        TeammateState {
            teammate: Teammate::new(id),
            presence: seen.map(|_| busy(id)),
            since: seen,
            since_words: String::new(),
            calendar_words: Vec::new(),
            photo: None,
            outlook,
        }
    }

    fn seen(calendar_read: bool) -> Seen {
        Seen {
            tenant: "contoso".into(),
            calendar_read,
        }
    }

    fn presence_of(p: &Publication) -> (&str, Whose, &serde_json::Value) {
        match p {
            Publication::Presence { id, whose, body } => (id, *whose, body),
            other => panic!("a presence was expected, not {other:?}"),
        }
    }

    #[test]
    fn teammates_are_published_with_when_they_were_seen_once_known() {
        let mut roster = HashSet::new();
        let event = MonitorEvent::Presence(vec![
            teammate("a", Some(at(5)), None),
            teammate("not-seen-yet", None, None),
        ]);
        let out = seen(false).publications(&mut roster, &event, at(30));
        assert_eq!(out.len(), 1, "{out:?}");
        let (id, whose, body) = presence_of(&out[0]);
        assert_eq!((id, whose), ("a", Whose::Teammate));
        assert_eq!(body["at"], "2026-12-07T09:05:00.000Z");
        assert_eq!(body["tenant"], "contoso");
        assert_eq!(body["me"], false);
        assert_eq!(body["availability"], "Busy");
        assert!(
            body.get("free_at").is_none(),
            "no calendar fields while calendars are not read: {body}"
        );
    }

    #[test]
    fn while_calendars_are_read_teammates_carry_their_outlook_empty_until_read() {
        let mut roster = HashSet::new();
        let outlook = Outlook {
            free_at: Some(at(45)),
            ..Outlook::default()
        };
        let event = MonitorEvent::Presence(vec![
            teammate("read", Some(at(5)), Some(outlook)),
            teammate("unread", Some(at(5)), None),
        ]);
        let out = seen(true).publications(&mut roster, &event, at(30));
        let (_, _, read) = presence_of(&out[0]);
        assert_eq!(read["free_at"], "2026-12-07T09:45:00.000Z");
        let (_, _, unread) = presence_of(&out[1]);
        assert_eq!(unread["free_at"], serde_json::Value::Null);
        assert_eq!(unread["outside_working_hours"], false);
    }

    #[test]
    fn your_own_presence_is_published_as_polled_and_not_when_read_back() {
        let mut roster = HashSet::new();
        let polled = MonitorEvent::OwnPresence(Box::new(busy("me")));
        let out = seen(true).publications(&mut roster, &polled, at(30));
        let (id, whose, body) = presence_of(&out[0]);
        assert_eq!((id, whose), ("me", Whose::Mine));
        assert_eq!(body["me"], true);
        assert_eq!(body["at"], "2026-12-07T09:30:00.000Z");
        assert!(body.get("free_at").is_none(), "{body}");
        // `Me` follows a poll, or a status you set: the poll publishes it.
        let shown = MonitorEvent::Me {
            account: Box::new(crate::auth::Account::debra()),
            presence: Box::new(busy("me")),
        };
        assert_eq!(seen(true).publications(&mut roster, &shown, at(30)), vec![]);
    }

    #[test]
    fn whoever_leaves_the_roster_is_cleared_once() {
        let mut roster: HashSet<String> = ["a", "b", "c"].map(String::from).into();
        let everyone = |ids: &[&str]| {
            MonitorEvent::Roster(ids.iter().map(|id| teammate(id, None, None)).collect())
        };
        let out = seen(false).publications(&mut roster, &everyone(&["b", "d"]), at(30));
        assert_eq!(
            out,
            vec![
                Publication::Forget("a".into()),
                Publication::Forget("c".into())
            ]
        );
        // The same roster again (photos came, a sign-out): nobody left.
        assert_eq!(
            seen(false).publications(&mut roster, &everyone(&["b", "d"]), at(31)),
            vec![]
        );
        assert_eq!(
            seen(false).publications(&mut roster, &everyone(&["d"]), at(32)),
            vec![Publication::Forget("b".into())]
        );
    }

    #[test]
    fn other_events_publish_nothing() {
        let mut roster = HashSet::new();
        for event in [
            MonitorEvent::Pause(None),
            MonitorEvent::Calendar(crate::monitor::CalendarState::On),
            MonitorEvent::SignIn(crate::monitor::SignInState::SignedOut { reason: None }),
        ] {
            assert_eq!(seen(true).publications(&mut roster, &event, at(30)), vec![]);
        }
    }
}
