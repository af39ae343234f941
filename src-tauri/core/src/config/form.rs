//! The window's settings, as typed, made into a [`SettingsChange`]: every
//! value cleaned and the form's own checks made here, once, so that the
//! window sends only what was typed and shows the words it gets back.

use chrono::NaiveTime;

use super::change::SettingsChange;
use super::defaults::MIN_INTERVAL;
use super::settings::Settings;
use crate::broker::{MqttForm, MqttSetting};
use crate::error::{Error, Result};
use crate::quiet_hours::QuietHoursSetting;
use crate::secret::Secret;

/// The settings form as typed in the window: nothing trimmed, nothing
/// checked. Start at login is the desktop app's own and not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsForm {
    pub cloud: String,
    pub tenant: String,
    pub client_id: String,
    /// "Check presence every … seconds".
    pub interval: String,
    pub quiet_hours: QuietHoursForm,
    pub calendar: bool,
    pub mqtt: MqttForm,
}

/// Quiet hours as typed: the times as the time fields give them
/// ("18:00", or "18:00:00" where they show seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietHoursForm {
    pub enabled: bool,
    pub start: String,
    pub end: String,
}

/// What a settings form asks for: the change to save, and a new MQTT
/// password for the keyring when one was typed.
#[derive(Debug, Clone, PartialEq)]
pub struct FormChange {
    pub change: SettingsChange,
    pub mqtt_password: Option<Secret>,
}

impl SettingsForm {
    /// The change this form asks of `current`, the settings in force. Each
    /// text field is trimmed (the cloud is chosen, not typed); blank MQTT fields take their defaults; quiet hours
    /// that are off keep the hours in force for any time not typed in full.
    /// What the form itself refuses is an [`Error::FormField`] naming the
    /// setting, in the order of the form; the rest is checked, all
    /// together, when the change is saved ([`SettingsChange::save`]).
    pub fn change(&self, current: &Settings) -> Result<FormChange> {
        let interval_secs = whole_seconds(&self.interval)?;
        let q = &self.quiet_hours;
        let quiet_hours = QuietHoursSetting {
            enabled: q.enabled,
            start: quiet_clock(q, &q.start, current.quiet_hours.start, QuietEnd::Start)?,
            end: quiet_clock(q, &q.end, current.quiet_hours.end, QuietEnd::End)?,
        };
        // Only the file says a password may go in the clear: the window
        // keeps what it says.
        let allow_plaintext = current.mqtt.as_ref().is_some_and(|m| m.allow_plaintext);
        let mqtt = MqttSetting::from_form(&self.mqtt, allow_plaintext)?;
        Ok(FormChange {
            change: SettingsChange {
                cloud: self.cloud.clone(),
                tenant: self.tenant.trim().to_string(),
                client_id: self.client_id.trim().to_string(),
                interval_secs,
                quiet_hours,
                calendar: self.calendar,
                mqtt,
            },
            mqtt_password: self.mqtt.new_password(),
        })
    }
}

/// A whole number of seconds, at least the shortest interval; the longest
/// is checked with the rest when saved.
fn whole_seconds(typed: &str) -> Result<u64> {
    let shortest = MIN_INTERVAL.as_secs() as f64;
    match typed.trim().parse::<f64>() {
        // Past u64 it saturates, and is refused as too long when saved.
        Ok(n) if n.is_finite() && n.fract() == 0.0 && n >= shortest => Ok(n as u64),
        _ => Err(Error::FormField {
            key: "interval",
            reason: format!(
                "Check presence every {} seconds or more (a whole number).",
                MIN_INTERVAL.as_secs()
            ),
        }),
    }
}

#[derive(Clone, Copy)]
enum QuietEnd {
    Start,
    End,
}

/// One end of quiet hours: "HH:MM" (seconds left out). While quiet hours
/// are off, a time not typed in full keeps `kept`.
fn quiet_clock(
    form: &QuietHoursForm,
    typed: &str,
    kept: NaiveTime,
    end: QuietEnd,
) -> Result<NaiveTime> {
    match (hours_and_minutes(typed), form.enabled) {
        (Some(t), _) => Ok(t),
        (None, false) => Ok(kept),
        (None, true) => {
            let (key, which) = match end {
                QuietEnd::Start => ("quiet_hours.start", "start"),
                QuietEnd::End => ("quiet_hours.end", "end"),
            };
            Err(Error::FormField {
                key,
                reason: format!("Enter the {which} of quiet hours as HH:MM."),
            })
        }
    }
}

/// "18:30" (two digits each) from the start of `typed`, as a time field
/// gives it, "18:30:00" included.
fn hours_and_minutes(typed: &str) -> Option<NaiveTime> {
    let hhmm: String = typed.chars().take(5).collect();
    let digits_around_colon = hhmm.len() == 5
        && hhmm.bytes().enumerate().all(|(i, b)| {
            if i == 2 {
                b == b':'
            } else {
                b.is_ascii_digit()
            }
        });
    digits_around_colon
        .then(|| NaiveTime::parse_from_str(&hhmm, "%H:%M").ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::DEFAULT_TOPIC_PREFIX;
    use crate::config::{in_dir, Overrides, CONFIG_FILE};

    fn at(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    /// The form as the window fills it from `settings`, MQTT off.
    fn filled(settings: &Settings) -> SettingsForm {
        SettingsForm {
            cloud: settings.cloud.id().to_string(),
            tenant: settings.tenant.clone(),
            client_id: settings.client_id.clone(),
            interval: settings.interval.as_secs().to_string(),
            quiet_hours: QuietHoursForm {
                enabled: settings.quiet_hours.enabled,
                start: QuietHoursSetting::clock(settings.quiet_hours.start),
                end: QuietHoursSetting::clock(settings.quiet_hours.end),
            },
            calendar: settings.calendar,
            mqtt: MqttForm {
                broker: String::new(),
                username: String::new(),
                password: Secret::new(""),
                topic_prefix: String::new(),
            },
        }
    }

    /// The settings resolved from a config file of `text` (none: no file).
    fn resolved(text: Option<&str>) -> (tempfile::TempDir, Settings) {
        let dir = tempfile::tempdir().unwrap();
        if let Some(text) = text {
            std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        }
        let settings = in_dir(dir.path(), Overrides::default()).unwrap();
        (dir, settings)
    }

    fn defaults() -> (tempfile::TempDir, Settings) {
        resolved(None)
    }

    #[test]
    fn a_form_left_as_filled_changes_nothing() {
        let (_dir, s) = defaults();
        let built = filled(&s).change(&s).unwrap();
        assert_eq!(built.change, SettingsChange::from(&s));
        assert_eq!(built.mqtt_password, None);
    }

    #[test]
    fn what_was_typed_is_trimmed_and_blank_mqtt_fields_take_their_defaults() {
        let (_dir, s) = defaults();
        let form = SettingsForm {
            cloud: "usgov".into(),
            tenant: "  contoso.com ".into(),
            client_id: "\t14d82eec-204b-4c2f-b7e8-296a70dab67e ".into(),
            interval: " 60 ".into(),
            quiet_hours: QuietHoursForm {
                enabled: true,
                start: "22:00:00".into(),
                end: "07:15".into(),
            },
            calendar: true,
            mqtt: MqttForm {
                broker: " mqtts://broker.lan:8883 ".into(),
                username: " debra ".into(),
                password: Secret::new(" hunter2 "),
                topic_prefix: "  ".into(),
            },
        };
        let built = form.change(&s).unwrap();
        assert_eq!(
            built.change,
            SettingsChange {
                cloud: "usgov".into(),
                tenant: "contoso.com".into(),
                client_id: "14d82eec-204b-4c2f-b7e8-296a70dab67e".into(),
                interval_secs: 60,
                quiet_hours: QuietHoursSetting {
                    enabled: true,
                    start: at(22, 0),
                    end: at(7, 15),
                },
                calendar: true,
                mqtt: Some(MqttSetting {
                    broker: "mqtts://broker.lan:8883".into(),
                    username: Some("debra".into()),
                    topic_prefix: DEFAULT_TOPIC_PREFIX.into(),
                    allow_plaintext: false,
                }),
            }
        );
        // The password as typed: its spaces are part of it.
        assert_eq!(
            built.mqtt_password.as_ref().map(Secret::expose),
            Some(" hunter2 ")
        );

        // No broker: publishing off, and no password to keep.
        let off = SettingsForm {
            mqtt: MqttForm {
                broker: "   ".into(),
                ..form.mqtt.clone()
            },
            ..form
        }
        .change(&s)
        .unwrap();
        assert_eq!((off.change.mqtt, off.mqtt_password), (None, None));
    }

    #[test]
    fn the_form_refuses_in_its_own_words_and_names_the_field() {
        let (_dir, s) = defaults();
        let form = filled(&s);
        let refused = |form: SettingsForm| {
            let e = form.change(&s).unwrap_err();
            assert_eq!(e.code(), "config", "{e}");
            (e.form_field().unwrap(), e.to_string())
        };
        let interval = "Check presence every 5 seconds or more (a whole number).";
        for typed in ["", "4", "0", "-30", "30.5", "thirty", "inf", "NaN", "1e400"] {
            assert_eq!(
                refused(SettingsForm {
                    interval: typed.into(),
                    ..form.clone()
                }),
                ("interval", interval.to_string()),
                "{typed:?}"
            );
        }
        for (start, end, field, words) in [
            ("25:00", "08:00", "quiet_hours.start", "start"),
            ("", "08:00", "quiet_hours.start", "start"),
            ("6pm", "08:00", "quiet_hours.start", "start"),
            (" 8:30", "08:00", "quiet_hours.start", "start"),
            ("18:00", "8:00", "quiet_hours.end", "end"),
            ("18:00", "08:60", "quiet_hours.end", "end"),
            ("18:00", "\u{1b}[2J", "quiet_hours.end", "end"),
        ] {
            let quiet = SettingsForm {
                quiet_hours: QuietHoursForm {
                    enabled: true,
                    start: start.into(),
                    end: end.into(),
                },
                ..form.clone()
            };
            assert_eq!(
                refused(quiet),
                (field, format!("Enter the {words} of quiet hours as HH:MM.")),
                "{start:?} {end:?}"
            );
        }
        let broker = SettingsForm {
            mqtt: MqttForm {
                broker: "broker.lan:1883".into(),
                ..form.mqtt.clone()
            },
            ..form.clone()
        };
        assert_eq!(
            refused(broker),
            (
                "mqtt.broker",
                "The broker’s address starts with mqtt:// or mqtts://, like mqtt://127.0.0.1:1883."
                    .to_string()
            )
        );
        // In the order of the form: the interval first.
        let all_wrong = SettingsForm {
            interval: "1".into(),
            quiet_hours: QuietHoursForm {
                enabled: true,
                start: "x".into(),
                end: "y".into(),
            },
            ..form
        };
        assert_eq!(refused(all_wrong).0, "interval");
    }

    #[test]
    fn quiet_hours_that_are_off_keep_the_hours_unless_new_ones_are_typed_in_full() {
        let (_dir, s) = resolved(Some("[quiet_hours]\nstart = \"19:30\"\nend = \"07:00\"\n"));
        let off = |start: &str, end: &str| {
            SettingsForm {
                quiet_hours: QuietHoursForm {
                    enabled: false,
                    start: start.into(),
                    end: end.into(),
                },
                ..filled(&s)
            }
            .change(&s)
            .unwrap()
            .change
            .quiet_hours
        };
        let kept = QuietHoursSetting {
            enabled: false,
            start: at(19, 30),
            end: at(7, 0),
        };
        assert_eq!(off("", "nonsense"), kept);
        assert_eq!(
            off("21:00", ""),
            QuietHoursSetting {
                start: at(21, 0),
                ..kept
            }
        );
    }

    #[test]
    fn a_whole_number_past_a_day_is_left_to_the_save_that_refuses_it() {
        let (dir, s) = defaults();
        for (typed, secs) in [("86401", 86_401), ("1e30", u64::MAX), ("5.0", 5)] {
            let change = SettingsForm {
                interval: typed.into(),
                ..filled(&s)
            }
            .change(&s)
            .unwrap()
            .change;
            assert_eq!(change.interval_secs, secs, "{typed}");
            if secs > 86_400 {
                let e = change.save(dir.path()).unwrap_err();
                assert!(e.to_string().contains("at most 86400 seconds"), "{e}");
            }
        }
    }

    #[test]
    fn allow_plaintext_is_the_files_whatever_the_form_says() {
        let (dir, s) = resolved(Some(
            "[mqtt]\nbroker = \"mqtt://10.0.0.2\"\nusername = \"me\"\nallow_plaintext = true\n",
        ));
        let form = SettingsForm {
            mqtt: MqttForm {
                broker: "mqtt://10.0.0.3".into(),
                username: "me".into(),
                password: Secret::new("pw"),
                topic_prefix: "presently".into(),
            },
            ..filled(&s)
        };
        let built = form.change(&s).unwrap();
        assert!(built.change.mqtt.as_ref().unwrap().allow_plaintext);
        built.change.save(dir.path()).unwrap();

        // Without it in the file, the same form is refused when saved.
        let (dir, s) = defaults();
        let e = form
            .change(&s)
            .unwrap()
            .change
            .save(dir.path())
            .unwrap_err();
        assert!(e.to_string().contains("in the clear"), "{e}");
        assert!(!dir.path().join(CONFIG_FILE).exists());
    }
}
