//! MQTT broker addresses and topic prefixes, checked where they are read:
//! `presently publish`'s flags, the config file's `[mqtt]` table and the
//! window's "Publish to MQTT" form, which are read here too
//! ([`MqttSetting`], [`MqttForm`]).

use url::Url;

use crate::config_file::ConfigFile;
use crate::error::{Error, Result};
use crate::secret::Secret;

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

    /// The setting "Publish to MQTT" asks for, from what was typed: each
    /// field trimmed, no broker is off, a blank user name is none and a
    /// blank topic prefix the default. `allow_plaintext` is the file's: the
    /// window has no say in it. The address is checked in full when the
    /// change is saved ([`MqttSetting::check`]); here only that it names a
    /// broker at all, in the window's words.
    pub fn from_form(form: &MqttForm, allow_plaintext: bool) -> Result<Option<MqttSetting>> {
        let broker = form.broker.trim();
        if broker.is_empty() {
            return Ok(None);
        }
        if !names_a_broker(broker) {
            return Err(Error::FormField {
                key: "mqtt.broker",
                reason: "The broker’s address starts with mqtt:// or mqtts://, like mqtt://127.0.0.1:1883.".into(),
            });
        }
        let username = form.username.trim();
        let topic_prefix = form.topic_prefix.trim();
        Ok(Some(MqttSetting {
            broker: broker.to_string(),
            username: (!username.is_empty()).then(|| username.to_string()),
            topic_prefix: if topic_prefix.is_empty() {
                DEFAULT_TOPIC_PREFIX
            } else {
                topic_prefix
            }
            .to_string(),
            allow_plaintext,
        }))
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

/// "Publish to MQTT" in the window's settings, as typed: nothing trimmed,
/// blank fields blank. [`MqttSetting::from_form`] makes the setting of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttForm {
    pub broker: String,
    pub username: String,
    /// A new password for `username`; blank keeps the one in the keyring.
    pub password: Secret,
    pub topic_prefix: String,
}

impl MqttForm {
    /// The new password, when one was typed (as typed: spaces are part of
    /// a password), and only with a broker to use it for.
    pub fn new_password(&self) -> Option<Secret> {
        let typed = !self.password.expose().is_empty();
        (typed && !self.broker.trim().is_empty()).then(|| self.password.clone())
    }
}

/// `mqtt://` or `mqtts://` (any case) and something of a host after it.
fn names_a_broker(address: &str) -> bool {
    let lower = address.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("mqtt://")
        .or_else(|| lower.strip_prefix("mqtts://"));
    rest.and_then(|r| r.chars().next())
        .is_some_and(|c| c != '/' && !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(broker: &str, username: &str, password: &str, topic_prefix: &str) -> MqttForm {
        MqttForm {
            broker: broker.into(),
            username: username.into(),
            password: Secret::new(password),
            topic_prefix: topic_prefix.into(),
        }
    }

    #[test]
    fn the_form_is_trimmed_and_blank_fields_are_left_to_the_defaults() {
        assert_eq!(
            MqttSetting::from_form(&form("  ", "debra", "pw", "home"), false).unwrap(),
            None,
            "no broker is off"
        );
        assert_eq!(form("  ", "debra", "pw", "home").new_password(), None);
        let blank = form(" mqtt://127.0.0.1:1883 ", " ", "", "");
        assert_eq!(
            MqttSetting::from_form(&blank, false).unwrap(),
            Some(MqttSetting {
                broker: "mqtt://127.0.0.1:1883".into(),
                username: None,
                topic_prefix: DEFAULT_TOPIC_PREFIX.into(),
                allow_plaintext: false,
            })
        );
        assert_eq!(blank.new_password(), None, "no password typed");
        let full = form(
            "MQTTS://broker.example:8883",
            " debra ",
            " p w ",
            " home/presently ",
        );
        assert_eq!(
            MqttSetting::from_form(&full, true).unwrap(),
            Some(MqttSetting {
                broker: "MQTTS://broker.example:8883".into(),
                username: Some("debra".into()),
                topic_prefix: "home/presently".into(),
                allow_plaintext: true,
            })
        );
        assert_eq!(
            full.new_password().map(|p| p.expose().to_string()),
            Some(" p w ".into()),
            "a password as typed"
        );
    }

    #[test]
    fn a_broker_without_mqtt_or_mqtts_is_refused_in_the_windows_words() {
        for broker in [
            "127.0.0.1:1883",
            "http://broker:1883",
            "mqtt://",
            "mqtt:/broker",
            "tcp://broker:1883",
            "mqtt:// broker",
            "mqtts:///broker",
        ] {
            let e = MqttSetting::from_form(&form(broker, "", "", ""), false).unwrap_err();
            assert_eq!(e.form_field(), Some("mqtt.broker"), "{broker}");
            assert_eq!(e.code(), "config", "{broker}");
            assert_eq!(
                e.to_string(),
                "The broker’s address starts with mqtt:// or mqtts://, like mqtt://127.0.0.1:1883.",
                "{broker}"
            );
        }
        // The rest of the address is checked when the change is saved.
        let path = MqttSetting::from_form(&form("mqtt://broker.lan/x/y", "", "", ""), false)
            .unwrap()
            .unwrap();
        let e = path.check().unwrap_err();
        assert!(
            e.to_string().contains("must be only a host and a port"),
            "{e}"
        );
        assert_eq!(e.form_field(), None);
    }
}
