//! Settings: where to sign in, which tenant and app, where to keep files.
//!
//! Each setting comes from, in order of precedence: a command-line flag, its
//! environment variable (both handled by the caller and passed in as
//! [`Overrides`]), the config file `config.toml` in the config dir, and the
//! default. The config file is plain TOML that people may edit; when the app
//! writes it back, only the keys it changed are rewritten: comments, the order
//! of keys and keys this version does not know are kept ([`crate::toml_file`]
//! does this for the roster too).

use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use crate::cloud::Cloud;
use crate::error::{Error, Result};

pub use crate::broker::MqttSetting;
pub use crate::config_file::{ConfigFile, CONFIG_FILE};
pub use crate::error::ConfigProblem;
pub use crate::quiet_hours::QuietHoursSetting;
pub use crate::toml_file::{create_private_dir, write_atomically};

/// Microsoft Graph Command Line Tools: a Microsoft public client that allows
/// the device-code flow in most tenants.
pub const DEFAULT_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
pub const DEFAULT_TENANT: &str = "organizations";
/// The config file's key for [`Settings::calendar`].
pub const CALENDAR_KEY: &str = "calendar";

/// Default and lowest poll interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);
/// The longest poll interval a setting may ask for: a day.
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Delegated permissions asked for at sign-in, each for one feature:
/// `User.Read` to know who signed in, `Presence.Read.All` for teammates'
/// presence (and `/me/presence`), `User.ReadBasic.All` to find people and
/// their photos, `People.Read` for "people I work with", `offline_access` for
/// a refresh token so that sign-in lasts. None of them needs an admin.
pub const SCOPES: &[&str] = &[
    "User.Read",
    "Presence.Read.All",
    "User.ReadBasic.All",
    "People.Read",
    "offline_access",
];

/// Asked for only on request (`presently login --groups`): reading a team's
/// members needs it, and in most tenants only an administrator can consent.
pub const GROUP_SCOPE: &str = "GroupMember.Read.All";

/// Values given on the command line or in the environment. `None` means "not
/// given": the config file or the default decides.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub cloud: Option<String>,
    pub tenant: Option<String>,
    pub client_id: Option<String>,
    pub login_url: Option<String>,
    pub graph_url: Option<String>,
    pub config_dir: Option<PathBuf>,
    pub interval_secs: Option<u64>,
    /// `--calendar`: read when teammates will be free, whatever the file says.
    pub calendar: Option<bool>,
}

/// The resolved settings the engine runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub cloud: Cloud,
    pub tenant: String,
    pub client_id: String,
    /// Base of the sign-in service, without `/{tenant}/oauth2/...`.
    pub login_url: Url,
    /// Base of Microsoft Graph, without `/v1.0`.
    pub graph_url: Url,
    pub config_dir: PathBuf,
    pub interval: Duration,
    /// When notifications wait (the desktop app's; `watch` prints anyway).
    pub quiet_hours: QuietHoursSetting,
    /// "When they will be free": read the roster's calendars' free/busy
    /// (`calendar = true`; off by default, it needs one more permission).
    pub calendar: bool,
    /// The desktop app publishes presence to this MQTT broker (`[mqtt]`).
    pub mqtt: Option<MqttSetting>,
}

impl Settings {
    /// Resolves the settings from overrides, the config file and defaults.
    /// A value from the file that cannot be used is an
    /// [`Error::ConfigFile`], naming the file, the key and its line.
    pub fn resolve(overrides: &Overrides) -> Result<Settings> {
        let config_dir = match &overrides.config_dir {
            Some(dir) => dir.clone(),
            None => default_config_dir()?,
        };
        let file = ConfigFile::load(&config_dir)?;
        Settings::resolve_with(overrides, config_dir, &file)
    }

    /// The settings from overrides and defaults alone, leaving out a config
    /// file that cannot be used: what the desktop app runs on while it shows
    /// the problem with the file.
    pub fn without_file(overrides: &Overrides) -> Result<Settings> {
        let config_dir = match &overrides.config_dir {
            Some(dir) => dir.clone(),
            None => default_config_dir()?,
        };
        let empty = ConfigFile::empty(&config_dir);
        Settings::resolve_with(overrides, config_dir, &empty)
    }

    fn resolve_with(
        overrides: &Overrides,
        config_dir: PathBuf,
        file: &ConfigFile,
    ) -> Result<Settings> {
        // A value given on the command line is checked as given; a value from
        // the file is checked with the file's name, key and line.
        let pick = |given: &Option<String>, key: &str| -> Result<Option<Picked>> {
            Ok(match given {
                Some(v) => Some(Picked::given(v)),
                None => file.string(key)?.map(|v| Picked::in_file(key, v)),
            })
        };
        let or = |picked: Option<Picked>, default: &str| picked.unwrap_or(Picked::given(default));

        let cloud: Cloud = match pick(&overrides.cloud, "cloud")? {
            Some(c) => c.check(file, |v| v.parse())?,
            None => Cloud::default(),
        };
        let tenant = or(pick(&overrides.tenant, "tenant")?, DEFAULT_TENANT);
        tenant.check(file, validate_tenant)?;
        let client_id = or(pick(&overrides.client_id, "client_id")?, DEFAULT_CLIENT_ID);
        client_id.check(file, validate_client_id)?;
        let login_url = or(pick(&overrides.login_url, "login_url")?, cloud.login_host())
            .check(file, |v| parse_service_url("login URL", v))?;
        let graph_url = or(pick(&overrides.graph_url, "graph_url")?, cloud.graph_host())
            .check(file, |v| parse_service_url("Graph URL", v))?;
        let interval = match overrides.interval_secs {
            Some(s) => interval_from_secs(s)?,
            None => match file.integer("interval")? {
                Some(s) => interval_from_secs(s).map_err(|e| file.explain(&["interval"], e))?,
                None => DEFAULT_INTERVAL,
            },
        };
        let quiet_hours = QuietHoursSetting::from_file(file)?;
        let calendar = match overrides.calendar {
            Some(on) => on,
            None => file.boolean(CALENDAR_KEY)?.unwrap_or(false),
        };
        let mqtt = MqttSetting::from_file(file)?;

        Ok(Settings {
            cloud,
            tenant: tenant.value,
            client_id: client_id.value,
            login_url,
            graph_url,
            config_dir,
            interval,
            quiet_hours,
            calendar,
            mqtt,
        })
    }

    /// `{login}/{tenant}/oauth2/v2.0/{endpoint}`.
    pub fn oauth_url(&self, endpoint: &str) -> Url {
        join(
            &self.login_url,
            &format!("{}/oauth2/v2.0/{endpoint}", self.tenant),
        )
    }

    /// `{graph}/v1.0/{path}`; `path` may carry a query string.
    pub fn graph_endpoint(&self, path: &str) -> Url {
        join(
            &self.graph_url,
            &format!("v1.0/{}", path.trim_start_matches('/')),
        )
    }

    /// The scopes to ask for, qualified with the cloud's Graph resource so that
    /// national clouds issue tokens for their own Graph.
    pub fn scopes(&self) -> String {
        self.scopes_with(&[])
    }

    /// [`Settings::scopes`] plus `extra` (for example [`GROUP_SCOPE`]).
    pub fn scopes_with(&self, extra: &[&str]) -> String {
        SCOPES
            .iter()
            .chain(extra)
            .map(|s| match *s {
                "offline_access" => s.to_string(),
                _ => format!("{}/{s}", self.cloud.graph_host()),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The name under which this sign-in's tokens live in the keyring: the
    /// sign-in host is part of it, so that a sign-in to another service (the
    /// simulator, a proxy) never replaces one to Microsoft.
    pub fn keyring_account(&self) -> String {
        let host = self.login_url.host_str().unwrap_or_default();
        let port = self
            .login_url
            .port()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        format!(
            "{}/{}/{}@{host}{port}",
            self.cloud.id(),
            self.tenant,
            self.client_id
        )
    }
}

fn join(base: &Url, rest: &str) -> Url {
    let mut s = base.as_str().trim_end_matches('/').to_string();
    s.push('/');
    s.push_str(rest);
    Url::parse(&s).expect("a valid base URL joined with a path is a valid URL")
}

/// The platform's config directory for Presently.
pub fn default_config_dir() -> Result<PathBuf> {
    dirs::config_dir().map(|d| d.join("presently")).ok_or_else(|| {
        Error::Config(
            "Could not find your home or config directory; set --config-dir or PRESENTLY_CONFIG_DIR."
                .into(),
        )
    })
}

pub fn interval_from_secs(secs: u64) -> Result<Duration> {
    let d = Duration::from_secs(secs);
    if d < MIN_INTERVAL {
        return Err(Error::Config(format!(
            "The poll interval must be at least {} seconds (got {secs}).",
            MIN_INTERVAL.as_secs()
        )));
    }
    if d > MAX_INTERVAL {
        return Err(Error::Config(format!(
            "The poll interval must be at most {} seconds, a day (got {secs}).",
            MAX_INTERVAL.as_secs()
        )));
    }
    Ok(d)
}

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
    /// that worked; a file that cannot be read is left as it is.
    pub fn save(&self, config_dir: &Path) -> Result<()> {
        let cloud: Cloud = self.cloud.parse()?;
        let tenant = self.tenant.trim();
        let client_id = self.client_id.trim();
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
                table.insert("broker".into(), m.broker.trim().into());
                match m
                    .username
                    .as_deref()
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                {
                    Some(user) => table.insert("username".into(), user.into()),
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

/// Accepts `https://` anywhere, and `http://` only for loopback addresses
/// (the simulator), so that tokens never travel in clear text.
pub fn parse_service_url(what: &str, raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("The {what} \"{raw}\" is not a valid URL ({e}).")))?;
    match url.scheme() {
        "https" => {}
        "http" if crate::http::is_loopback(&url) => {}
        "http" => {
            return Err(Error::Config(format!(
                "The {what} \"{raw}\" uses plain http://, which is only allowed for loopback addresses (127.0.0.1, ::1, localhost). Use https://."
            )))
        }
        other => {
            return Err(Error::Config(format!(
                "The {what} \"{raw}\" must start with https:// (not {other}://)."
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::Config(format!("The {what} \"{raw}\" has no host.")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "The {what} \"{raw}\" must not carry a query or fragment."
        )));
    }
    Ok(url)
}

pub fn validate_tenant(tenant: &str) -> Result<()> {
    let ok = !tenant.is_empty()
        && tenant.len() <= 256
        && tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !ok {
        return Err(Error::Config(format!(
            "The tenant \"{tenant}\" is not valid: use organizations, common, a tenant ID (GUID) or a domain such as contoso.onmicrosoft.com."
        )));
    }
    if tenant.eq_ignore_ascii_case("consumers") {
        return Err(Error::Config(
            "Personal Microsoft accounts cannot read presence; use a work or school tenant (organizations, a tenant ID or a domain)."
                .into(),
        ));
    }
    Ok(())
}

pub fn validate_client_id(id: &str) -> Result<()> {
    if uuid::Uuid::try_parse(id).is_err() {
        return Err(Error::Config(format!(
            "The client ID \"{id}\" is not valid: it is the Application (client) ID of an app registration, a GUID like {DEFAULT_CLIENT_ID}."
        )));
    }
    Ok(())
}

/// A setting's value and the key of the config file it came from (none when
/// it was given on the command line or is the default).
struct Picked {
    value: String,
    key: Option<String>,
}

impl Picked {
    fn given(value: &str) -> Picked {
        Picked {
            value: value.to_string(),
            key: None,
        }
    }

    fn in_file(key: &str, value: String) -> Picked {
        Picked {
            value,
            key: Some(key.to_string()),
        }
    }

    /// `check`'s verdict on the value, naming the file's key and line when
    /// the value came from the file.
    fn check<T>(&self, file: &ConfigFile, check: impl FnOnce(&str) -> Result<T>) -> Result<T> {
        check(&self.value).map_err(|e| match &self.key {
            Some(key) => file.explain(&[key], e),
            None => e,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use chrono::NaiveTime;

    use super::*;

    fn problem(dir: &Path, text: &str) -> ConfigProblem {
        fs::write(dir.join(CONFIG_FILE), text).unwrap();
        match Settings::resolve(&Overrides {
            config_dir: Some(dir.to_path_buf()),
            ..Default::default()
        }) {
            Err(Error::ConfigFile(p)) => p,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn a_bad_config_file_is_named_with_the_key_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CONFIG_FILE);

        let p = problem(
            dir.path(),
            "# mine\ntenant = \"contoso.com\"\ninterval = \"often\"\n",
        );
        assert_eq!((p.key.as_deref(), p.line), (Some("interval"), Some(3)));
        assert_eq!(p.file, file);
        assert_eq!(
            p.to_string(),
            format!(
                "In {}, line 3: \"interval\" should be a positive whole number, not \"often\".",
                file.display()
            )
        );

        let p = problem(dir.path(), "\n\ntenant = \"consumers\"\n");
        assert_eq!((p.key.as_deref(), p.line), (Some("tenant"), Some(3)));
        assert!(p.reason.contains("Personal Microsoft accounts"), "{p}");

        let p = problem(dir.path(), "cloud = \"mars\"\n");
        assert_eq!((p.key.as_deref(), p.line), (Some("cloud"), Some(1)));

        let p = problem(dir.path(), "interval = 1\n");
        assert_eq!((p.key.as_deref(), p.line), (Some("interval"), Some(1)));

        let p = problem(dir.path(), "graph_url = \"http://graph.example.com\"\n");
        assert_eq!(p.key.as_deref(), Some("graph_url"));

        let p = problem(
            dir.path(),
            "[quiet_hours]\nenabled = true\nstart = \"6pm\"\n",
        );
        assert_eq!(
            (p.key.as_deref(), p.line),
            (Some("quiet_hours.start"), Some(3))
        );
        assert!(
            p.to_string().contains("\"6pm\" is not a time like 18:00"),
            "{p}"
        );

        let p = problem(dir.path(), "quiet_hours = 1\n");
        assert_eq!(p.key.as_deref(), Some("quiet_hours"));

        // Not TOML at all: the line, and words even where the parser has none.
        let p = problem(dir.path(), "tenant = \"a\"\ncloud =\n");
        assert_eq!((p.key.as_deref(), p.line), (None, Some(2)));
        assert!(!p.reason.trim().is_empty());
        assert!(p.to_string().contains("could not be read"), "{p}");

        // A flag is checked as given, with no file to blame.
        fs::write(&file, "").unwrap();
        let err = in_dir(
            dir.path(),
            Overrides {
                tenant: Some("consumers".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
    }

    #[test]
    fn without_the_file_the_defaults_and_flags_hold() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(CONFIG_FILE), "cloud = [").unwrap();
        let s = Settings::without_file(&Overrides {
            config_dir: Some(dir.path().to_path_buf()),
            tenant: Some("contoso.com".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!((s.cloud, s.tenant.as_str()), (Cloud::Global, "contoso.com"));
        assert_eq!(s.config_dir, dir.path());
    }

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

    fn in_dir(dir: &Path, o: Overrides) -> Result<Settings> {
        Settings::resolve(&Overrides {
            config_dir: Some(dir.to_path_buf()),
            ..o
        })
    }

    #[test]
    fn defaults_are_global_organizations_and_graph_cli_tools() {
        let dir = tempfile::tempdir().unwrap();
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.cloud, Cloud::Global);
        assert_eq!(s.tenant, "organizations");
        assert_eq!(s.client_id, DEFAULT_CLIENT_ID);
        assert_eq!(
            s.oauth_url("devicecode").as_str(),
            "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
        );
        assert_eq!(
            s.graph_endpoint("/communications/getPresencesByUserId")
                .as_str(),
            "https://graph.microsoft.com/v1.0/communications/getPresencesByUserId"
        );
        assert_eq!(s.interval, DEFAULT_INTERVAL);
    }

    #[test]
    fn each_cloud_brings_its_own_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let s = in_dir(
            dir.path(),
            Overrides {
                cloud: Some("dod".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.login_url.as_str(), "https://login.microsoftonline.us/");
        assert_eq!(s.graph_url.as_str(), "https://dod-graph.microsoft.us/");
        assert!(s
            .scopes()
            .contains("https://dod-graph.microsoft.us/Presence.Read.All"));
        assert!(s.scopes().split(' ').any(|x| x == "offline_access"));
    }

    #[test]
    fn flags_beat_the_file_and_the_file_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(CONFIG_FILE),
            "cloud = \"china\"\ntenant = \"contoso.onmicrosoft.com\"\ninterval = 30\nfuture_key = 1\n",
        )
        .unwrap();
        let s = in_dir(dir.path(), Overrides::default()).unwrap();
        assert_eq!(s.cloud, Cloud::China);
        assert_eq!(s.tenant, "contoso.onmicrosoft.com");
        assert_eq!(s.interval, Duration::from_secs(30));
        let s = in_dir(
            dir.path(),
            Overrides {
                tenant: Some("common".into()),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(s.tenant, "common");
        assert_eq!(s.cloud, Cloud::China);
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(parse_service_url("login URL", "http://127.0.0.1:8080").is_ok());
        assert!(parse_service_url("login URL", "http://[::1]:8080/").is_ok());
        assert!(parse_service_url("login URL", "http://localhost:1").is_ok());
        let err = parse_service_url("login URL", "http://login.example.com").unwrap_err();
        assert!(
            err.to_string().contains("only allowed for loopback"),
            "{err}"
        );
        assert!(parse_service_url("login URL", "ftp://127.0.0.1").is_err());
        assert!(parse_service_url("login URL", "not a url").is_err());
    }

    #[test]
    fn bad_values_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let bad = |o: Overrides| in_dir(dir.path(), o).unwrap_err().to_string();
        assert!(bad(Overrides {
            client_id: Some("abc".into()),
            ..Default::default()
        })
        .contains("client ID"));
        assert!(bad(Overrides {
            tenant: Some("a/b".into()),
            ..Default::default()
        })
        .contains("tenant"));
        assert!(bad(Overrides {
            interval_secs: Some(2),
            ..Default::default()
        })
        .contains("at least 5"));
        fs::write(dir.path().join(CONFIG_FILE), "cloud = [").unwrap();
        assert!(bad(Overrides::default()).contains("config file"));
        fs::write(dir.path().join(CONFIG_FILE), "interval = \"fast\"").unwrap();
        assert!(bad(Overrides::default()).contains("\"interval\" should be"));
    }

    #[test]
    fn intervals_out_of_bounds_are_refused_not_a_panic() {
        for secs in [0, 4, 86_401, u64::MAX / 2, u64::MAX] {
            let e = interval_from_secs(secs).unwrap_err();
            assert_eq!(e.code(), "config", "{secs}");
        }
        assert_eq!(interval_from_secs(5).unwrap(), Duration::from_secs(5));
        assert_eq!(interval_from_secs(86_400).unwrap(), MAX_INTERVAL);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "interval = 18446744073709551615\n",
        )
        .unwrap();
        assert!(in_dir(dir.path(), Overrides::default()).is_err());
        std::fs::write(dir.path().join(CONFIG_FILE), "interval = -5\n").unwrap();
        assert!(in_dir(dir.path(), Overrides::default()).is_err());
        std::fs::write(dir.path().join(CONFIG_FILE), "interval = \"soon\"\n").unwrap();
        assert!(in_dir(dir.path(), Overrides::default()).is_err());
    }
}
