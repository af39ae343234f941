//! The settings the engine runs with, resolved from flags, the environment,
//! the config file and the defaults.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::checks::{interval_from_secs, parse_service_url, validate_client_id, validate_tenant};
use super::defaults::{DEFAULT_CLIENT_ID, DEFAULT_INTERVAL, DEFAULT_TENANT, SCOPES};
use crate::broker::MqttSetting;
use crate::cloud::Cloud;
use crate::config_file::ConfigFile;
use crate::error::{Error, Result};
use crate::quiet_hours::QuietHoursSetting;

/// The config file's key for [`Settings::calendar`].
pub const CALENDAR_KEY: &str = "calendar";

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

    /// [`Settings::scopes`] plus `extra` (for example [`GROUP_SCOPE`](super::GROUP_SCOPE)).
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
    use std::path::Path;

    use super::*;
    use crate::config::{in_dir, ConfigProblem, CONFIG_FILE};

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
}
