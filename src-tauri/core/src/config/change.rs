//! Settings changed: from the window, checked all together and saved with
//! the rest of the config file as it was, or the calendar turned on from
//! the command line.

use std::path::Path;

use super::checks::{interval_from_secs, validate_client_id, validate_tenant};
use super::settings::{Settings, CALENDAR_KEY};
use crate::broker::MqttSetting;
use crate::cloud::Cloud;
use crate::config_file::ConfigFile;
use crate::error::Result;
use crate::quiet_hours::QuietHoursSetting;

/// The settings a person changes in the window, checked all together and
/// saved into `config.toml` with the rest of the file as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingsChange {
    pub cloud: String,
    pub tenant: String,
    pub client_id: String,
    pub interval_secs: u64,
    pub quiet_hours: QuietHoursSetting,
    pub calendar: bool,
    /// `None`: no publishing (the `[mqtt]` table goes).
    pub mqtt: Option<MqttSetting>,
}

impl SettingsChange {
    /// The change that keeps `settings` as they are.
    pub fn from(settings: &Settings) -> SettingsChange {
        SettingsChange {
            cloud: settings.cloud.id().to_string(),
            tenant: settings.tenant.clone(),
            client_id: settings.client_id.clone(),
            interval_secs: settings.interval.as_secs(),
            quiet_hours: settings.quiet_hours,
            calendar: settings.calendar,
            mqtt: settings.mqtt.clone(),
        }
    }

    /// Writes the change to the config file in `config_dir`. Nothing is
    /// written unless every value is valid, so a typo never loses settings
    /// that worked; a file that cannot be read is left as it is. The values
    /// are taken as they are: the window's form cleans what was typed
    /// ([`SettingsForm::change`](super::SettingsForm::change)).
    pub fn save(&self, config_dir: &Path) -> Result<()> {
        let cloud: Cloud = self.cloud.parse()?;
        let (tenant, client_id) = (self.tenant.as_str(), self.client_id.as_str());
        validate_tenant(tenant)?;
        validate_client_id(client_id)?;
        let interval = interval_from_secs(self.interval_secs)?;
        let mut file = ConfigFile::load(config_dir)?;
        file.set("cloud", cloud.id());
        file.set("tenant", tenant);
        file.set("client_id", client_id);
        file.set("interval", interval.as_secs() as i64);
        let q = self.quiet_hours;
        let mut table = match file.table().get(QuietHoursSetting::KEY) {
            Some(toml::Value::Table(t)) => t.clone(),
            _ => toml::Table::new(),
        };
        table.insert("enabled".into(), q.enabled.into());
        table.insert("start".into(), QuietHoursSetting::clock(q.start).into());
        table.insert("end".into(), QuietHoursSetting::clock(q.end).into());
        file.set(QuietHoursSetting::KEY, table);
        // Off is the default: a file that never turned it on is left without it.
        if self.calendar || file.table().contains_key(CALENDAR_KEY) {
            file.set(CALENDAR_KEY, self.calendar);
        }
        match &self.mqtt {
            Some(m) => {
                m.check()?;
                let mut table = match file.table().get(MqttSetting::KEY) {
                    Some(toml::Value::Table(t)) => t.clone(),
                    _ => toml::Table::new(),
                };
                table.insert("broker".into(), m.broker.as_str().into());
                match &m.username {
                    Some(user) => table.insert("username".into(), user.as_str().into()),
                    None => table.remove("username"),
                };
                table.insert("topic_prefix".into(), m.topic_prefix.as_str().into());
                file.set(MqttSetting::KEY, table);
            }
            None => file.remove(MqttSetting::KEY),
        }
        file.save()
    }
}

/// Turns "when they will be free" on or off in the config file in
/// `config_dir`, and touches nothing else in it (`presently login
/// --calendar`). A file that cannot be read is left as it is.
pub fn save_calendar(config_dir: &Path, on: bool) -> Result<()> {
    let mut file = ConfigFile::load(config_dir)?;
    file.set(CALENDAR_KEY, on);
    file.save()
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::time::Duration;

    use chrono::NaiveTime;

    use super::*;
    use crate::config::{in_dir, Overrides, CONFIG_FILE};
    use crate::error::Error;

    #[test]
    fn the_calendar_is_off_unless_the_file_or_a_flag_turns_it_on() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CONFIG_FILE);
        assert!(!in_dir(dir.path(), Overrides::default()).unwrap().calendar);

        fs::write(&file, "# mine\ntenant = \"contoso.com\"\ncalendar = true\n").unwrap();
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        assert!(s.calendar);
        let off = Overrides {
            calendar: Some(false),
            ..Default::default()
        };
        assert!(!in_dir(dir.path(), off).unwrap().calendar);

        // Turned off from the window: saved, the comment kept.
        let change = SettingsChange {
            calendar: false,
            ..SettingsChange::from(&s)
        };
        change.save(dir.path()).unwrap();
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("# mine") && text.contains("calendar = false"),
            "{text}"
        );
        assert!(!in_dir(dir.path(), Overrides::default()).unwrap().calendar);

        fs::write(&file, "tenant = \"contoso.com\"\ncalendar = \"yes\"\n").unwrap();
        match in_dir(dir.path(), Overrides::default()) {
            Err(Error::ConfigFile(p)) => {
                assert_eq!(
                    (p.key.as_deref(), p.line),
                    (Some("calendar"), Some(2)),
                    "{p:?}"
                );
                assert!(p.reason.contains("true or false"), "{p:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_mqtt_table_is_checked_where_it_is_read_and_saved_without_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CONFIG_FILE);
        assert_eq!(in_dir(dir.path(), Overrides::default()).unwrap().mqtt, None);

        fs::write(
            &file,
            "tenant = \"contoso.com\"\n\n[mqtt]\n# the house\nbroker = \"mqtt://10.0.0.2:1883\"\nusername = \"me\"\nallow_plaintext = true\n",
        )
        .unwrap();
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        let mqtt = s.mqtt.clone().unwrap();
        assert_eq!(
            (
                mqtt.broker.as_str(),
                mqtt.username.as_deref(),
                mqtt.topic_prefix.as_str(),
                mqtt.allow_plaintext,
            ),
            ("mqtt://10.0.0.2:1883", Some("me"), "presently", true)
        );
        assert!(mqtt
            .plaintext_warning()
            .is_some_and(|w| w.contains("10.0.0.2") && w.contains("in the clear")));

        // A password in the clear to another machine is saved only where
        // the file allows it; nothing is written otherwise.
        let before = fs::read_to_string(&file).unwrap();
        let e = SettingsChange {
            mqtt: Some(MqttSetting {
                allow_plaintext: false,
                ..mqtt.clone()
            }),
            ..SettingsChange::from(&s)
        }
        .save(dir.path())
        .unwrap_err();
        assert!(e.to_string().contains("in the clear"), "{e}");
        assert_eq!(fs::read_to_string(&file).unwrap(), before);

        // Saved from the window: the comment stays, no password is written.
        let change = SettingsChange {
            mqtt: Some(MqttSetting {
                topic_prefix: "home".into(),
                ..mqtt
            }),
            ..SettingsChange::from(&s)
        };
        change.save(dir.path()).unwrap();
        let text = fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("# the house") && text.contains("topic_prefix = \"home\""),
            "{text}"
        );
        assert!(!text.contains("password"), "{text}");
        // Turned off: the table goes.
        SettingsChange {
            mqtt: None,
            ..SettingsChange::from(&s)
        }
        .save(dir.path())
        .unwrap();
        assert!(!fs::read_to_string(&file).unwrap().contains("[mqtt]"));

        for (text, key, line) in [
            ("[mqtt]\nbroker = \"http://10.0.0.2\"\n", "mqtt.broker", 2),
            (
                "[mqtt]\nbroker = \"mqtt://u:pw@10.0.0.2\"\n",
                "mqtt.broker",
                2,
            ),
            (
                "[mqtt]\nbroker = \"mqtt://10.0.0.2\"\ntopic_prefix = \"a/#\"\n",
                "mqtt.topic_prefix",
                3,
            ),
            ("[mqtt]\nusername = \"me\"\n", "mqtt", 1),
            ("mqtt = 1\n", "mqtt", 1),
            (
                "[mqtt]\nbroker = \"mqtt://10.0.0.2\"\nallow_plaintext = \"yes\"\n",
                "mqtt.allow_plaintext",
                3,
            ),
        ] {
            fs::write(&file, text).unwrap();
            match in_dir(dir.path(), Overrides::default()) {
                Err(Error::ConfigFile(p)) => {
                    assert_eq!(
                        (p.key.as_deref(), p.line),
                        (Some(key), Some(line)),
                        "{text}: {p:?}"
                    );
                    assert!(!p.reason.contains("pw@"), "{p:?}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        // A bad table from the window is refused, and the file kept.
        fs::write(&file, "tenant = \"contoso.com\"\n").unwrap();
        let bad = SettingsChange {
            mqtt: Some(MqttSetting {
                broker: "mqtt://10.0.0.2".into(),
                username: None,
                topic_prefix: "#".into(),
                allow_plaintext: false,
            }),
            ..SettingsChange::from(&s)
        };
        assert!(bad.save(dir.path()).is_err());
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "tenant = \"contoso.com\"\n"
        );
    }

    #[test]
    fn quiet_hours_are_read_and_saved_with_the_rest_of_the_file_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CONFIG_FILE);
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.quiet_hours, QuietHoursSetting::default());
        assert!(s.quiet_hours.hours().is_none());

        fs::write(
            &file,
            "# My settings\ntenant = \"contoso.com\" # work\n\n[quiet_hours]\n# evenings\nstart = \"19:30\"\nenabled = true\nextra = 1\n",
        )
        .unwrap();
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        let hours = s.quiet_hours.hours().unwrap();
        assert_eq!(hours.start, NaiveTime::from_hms_opt(19, 30, 0).unwrap());
        assert_eq!(hours.end, NaiveTime::from_hms_opt(8, 0, 0).unwrap());

        let mut change = SettingsChange::from(&s);
        change.quiet_hours = QuietHoursSetting::parse(true, "22:00", "7:15").unwrap();
        change.interval_secs = 60;
        change.save(dir.path()).unwrap();
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "# My settings\ntenant = \"contoso.com\" # work\nclient_id = \"14d82eec-204b-4c2f-b7e8-296a70dab67e\"\ncloud = \"global\"\ninterval = 60\n\n[quiet_hours]\n# evenings\nstart = \"22:00\"\nenabled = true\nextra = 1\nend = \"07:15\"\n"
        );
        let again = in_dir(dir.path(), Overrides::default()).unwrap();
        assert_eq!(again.quiet_hours, change.quiet_hours);
        assert_eq!(again.interval, Duration::from_secs(60));

        // Any bad value: nothing is written.
        let before = fs::read_to_string(&file).unwrap();
        for bad in [
            SettingsChange {
                tenant: "consumers".into(),
                ..change.clone()
            },
            SettingsChange {
                interval_secs: u64::MAX,
                ..change.clone()
            },
            SettingsChange {
                cloud: "mars".into(),
                ..change.clone()
            },
        ] {
            assert!(bad.save(dir.path()).is_err(), "{bad:?}");
            assert_eq!(fs::read_to_string(&file).unwrap(), before);
        }
        assert!(QuietHoursSetting::parse(true, "25:00", "08:00").is_err());
        assert!(QuietHoursSetting::parse(true, "18:00", "\u{1b}[2J").is_err());
    }
}
