//! MQTT broker addresses and topic prefixes, checked where they are read:
//! `presently publish`'s flags and the config file's `[mqtt]` table, which
//! is read here too ([`MqttSetting`]).

use url::Url;

use crate::config_file::ConfigFile;
use crate::error::{Error, Result};

/// The topic prefix unless `--topic-prefix` or the config file replaces it.
pub const DEFAULT_TOPIC_PREFIX: &str = "presently";
const DEFAULT_PORT: u16 = 1883;
const DEFAULT_TLS_PORT: u16 = 8883;

/// Checks a broker address: `mqtt://` or `mqtts://`, a host, an optional
/// port, nothing else (credentials go in `--username` and the keyring, never
/// in an address that shows up in process lists and shell history).
pub fn parse_broker_url(raw: &str) -> Result<Url> {
    let bad = |why: &str| Error::Config(format!("The MQTT broker address \"{raw}\" {why}"));
    let url = Url::parse(raw.trim()).map_err(|e| bad(&format!("is not an address ({e}).")))?;
    if !matches!(url.scheme(), "mqtt" | "mqtts") {
        return Err(bad(
            "must start with mqtt:// (plain) or mqtts:// (TLS), e.g. mqtt://127.0.0.1:1883.",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Not repeated: it holds a password.
        return Err(Error::Config(
            "The MQTT broker address holds credentials: give only mqtt://HOST:PORT and --username; the password is asked once and kept in the keyring.".into(),
        ));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must be only a host and a port."));
    }
    Ok(url)
}

/// The broker's host and port (the default port for the scheme if none).
pub fn host_and_port(url: &Url) -> (String, u16) {
    let host = match url.host() {
        // rumqttc wants an IPv6 address bare, without the brackets.
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        _ => url.host_str().unwrap_or_default().to_string(),
    };
    let default = if url.scheme() == "mqtts" {
        DEFAULT_TLS_PORT
    } else {
        DEFAULT_PORT
    };
    (host, url.port().unwrap_or(default))
}

/// The keyring entry that keeps the password of `username` at this broker.
pub fn password_entry(url: &Url, username: &str) -> String {
    let (host, port) = host_and_port(url);
    format!("mqtt:{username}@{host}:{port}")
}

/// Refuses to send a password in the clear to another machine: `mqtt://`
/// (no TLS) with a user name, to a host that is not this one, unless
/// `allow_plaintext` says the network is trusted.
pub fn check_plaintext(url: &Url, username: Option<&str>, allow_plaintext: bool) -> Result<()> {
    match plaintext_to_another_host(url, username) {
        Some(host) if !allow_plaintext => Err(Error::Config(format!(
            "The MQTT broker {host} would get your password in the clear (mqtt:// has no TLS). Use mqtts://, or, on a network you trust, set allow_plaintext = true in [mqtt] of config.toml (presently publish: --allow-plaintext)."
        ))),
        _ => Ok(()),
    }
}

/// What the window says while `allow_plaintext` lets a password go to
/// another machine in the clear.
pub fn plaintext_warning(
    url: &Url,
    username: Option<&str>,
    allow_plaintext: bool,
) -> Option<String> {
    let host = plaintext_to_another_host(url, username).filter(|_| allow_plaintext)?;
    Some(format!(
        "Your MQTT password goes to {host} in the clear (allow_plaintext = true in config.toml): anyone on that network can read it. Use mqtts:// where the broker offers it."
    ))
}

/// The broker's host when a password would go there without TLS.
fn plaintext_to_another_host(url: &Url, username: Option<&str>) -> Option<String> {
    let plain = url.scheme() == "mqtt" && username.is_some_and(|u| !u.trim().is_empty());
    (plain && !crate::http::is_loopback(url)).then(|| host_and_port(url).0)
}

/// The longest topic prefix, in bytes: room for the tenant and a user ID
/// after it, well inside what any broker takes.
pub const MAX_TOPIC_PREFIX_BYTES: usize = 256;

/// Checks `--topic-prefix`: MQTT's wildcards `+` and `#` cannot be in a
/// topic someone publishes to, a leading `$` names the broker's own topics
/// (`$SYS`), and control characters (NUL among them) have no place in one.
pub fn check_topic_prefix(prefix: &str) -> Result<()> {
    let why = if prefix.is_empty() {
        Some("it is empty".to_string())
    } else if prefix.len() > MAX_TOPIC_PREFIX_BYTES {
        Some(format!("it is longer than {MAX_TOPIC_PREFIX_BYTES} bytes"))
    } else if prefix.starts_with('$') {
        Some("it starts with $, which marks the broker's own topics".into())
    } else if prefix.contains(['+', '#']) {
        Some("it holds + or #, MQTT's wildcards".into())
    } else if prefix.chars().any(char::is_control) {
        Some("it holds a control character".into())
    } else if prefix.ends_with('/') {
        Some("it ends in /".into())
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(Error::Config(format!(
            "The topic prefix \"{}\" cannot be used: {why}.",
            crate::text::clean_text(prefix, 80)
        ))),
    }
}

/// Where the desktop app publishes presence over MQTT, as `presently
/// publish --mqtt` does (`[mqtt] broker, username, topic_prefix`); the
/// password lives in the keyring, never in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttSetting {
    /// `mqtt://host[:port]` or `mqtts://host[:port]`.
    pub broker: String,
    pub username: Option<String>,
    pub topic_prefix: String,
    /// `allow_plaintext = true`: a password may go to another machine over
    /// `mqtt://` (no TLS). Set in the file only; the window warns.
    pub allow_plaintext: bool,
}

impl MqttSetting {
    pub const KEY: &'static str = "mqtt";

    /// The broker's address, checked.
    pub fn url(&self) -> Result<Url> {
        parse_broker_url(&self.broker)
    }

    pub(crate) fn check(&self) -> Result<()> {
        self.check_plaintext()?;
        check_topic_prefix(&self.topic_prefix)
    }

    /// The broker's address, checked, and no password in the clear to
    /// another machine unless [`MqttSetting::allow_plaintext`].
    pub fn check_plaintext(&self) -> Result<Url> {
        let url = self.url()?;
        check_plaintext(&url, self.username.as_deref(), self.allow_plaintext)?;
        Ok(url)
    }

    /// The window's warning while a password goes in the clear.
    pub fn plaintext_warning(&self) -> Option<String> {
        let url = self.url().ok()?;
        plaintext_warning(&url, self.username.as_deref(), self.allow_plaintext)
    }

    pub(crate) fn from_file(file: &ConfigFile) -> Result<Option<MqttSetting>> {
        let key = Self::KEY;
        let table = match file.table().get(key) {
            None => return Ok(None),
            Some(toml::Value::Table(t)) => t,
            Some(other) => {
                return Err(file.problem(
                    &[key],
                    format!("\"{key}\" should be a table with broker, username and topic_prefix, not {other}."),
                ))
            }
        };
        let text = |name: &str| -> Result<Option<String>> {
            match table.get(name) {
                None => Ok(None),
                Some(toml::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(file.problem(
                    &[key, name],
                    format!("\"{key}.{name}\" should be text, not {other}."),
                )),
            }
        };
        let Some(broker) = text("broker")? else {
            return Err(file.problem(
                &[key],
                "The [mqtt] table needs broker = \"mqtt://HOST:PORT\".".to_string(),
            ));
        };
        let allow_plaintext = match table.get("allow_plaintext") {
            None => false,
            Some(toml::Value::Boolean(b)) => *b,
            Some(other) => {
                return Err(file.problem(
                    &[key, "allow_plaintext"],
                    format!("\"{key}.allow_plaintext\" should be true or false, not {other}."),
                ))
            }
        };
        let setting = MqttSetting {
            broker,
            username: text("username")?.filter(|u| !u.trim().is_empty()),
            topic_prefix: text("topic_prefix")?.unwrap_or_else(|| DEFAULT_TOPIC_PREFIX.to_string()),
            allow_plaintext,
        };
        setting
            .url()
            .map_err(|e| file.explain(&[key, "broker"], e))?;
        check_topic_prefix(&setting.topic_prefix)
            .map_err(|e| file.explain(&[key, "topic_prefix"], e))?;
        Ok(Some(setting))
    }
}
