//! Publishing presence to an MQTT broker (`[mqtt]`) while signed in.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::auth::{self, Account};
use crate::broker::MqttSetting;
use crate::error::{Error, Result};
use crate::notify::Notification;
use crate::presence::Presence;
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
                        // Everyone known so far; then each change as it comes.
                        if let Some(p) = &state.me {
                            publisher.presence(
                                &p.id,
                                Whose::Mine,
                                &person_json(&state, p, Whose::Mine, Utc::now()),
                            );
                        }
                        for t in everyone(&state) {
                            if let (Some(p), Some(at)) = (&t.presence, t.since) {
                                publisher.presence(
                                    &p.id,
                                    Whose::Teammate,
                                    &person_json(&state, p, Whose::Teammate, at),
                                );
                            }
                        }
                        state.mqtt = Some(publisher);
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

/// What is published for `p`: `presently publish`'s object, with the
/// calendar's fields while "when they will be free" is on.
pub(super) fn person_json(
    state: &State,
    p: &Presence,
    whose: Whose,
    at: DateTime<Utc>,
) -> serde_json::Value {
    let tenant = state
        .session
        .as_ref()
        .map(|s| s.account().tenant_key().to_string())
        .unwrap_or_default();
    let outlook = match whose {
        Whose::Teammate if state.calendar.is_some() => {
            Some(state.outlooks.get(&p.id).cloned().unwrap_or_default())
        }
        _ => None,
    };
    publish::person_json(p, whose, &tenant, &at, outlook.as_ref())
}
