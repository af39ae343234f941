//! MQTT broker addresses and topic prefixes, checked where they are read:
//! `presently publish`'s flags and the config file's `[mqtt]` table.

use url::Url;

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

/// Checks `--topic-prefix`: MQTT's wildcards and NUL cannot be in a topic
/// someone publishes to.
pub fn check_topic_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() || prefix.contains(['+', '#', '\0']) || prefix.ends_with('/') {
        return Err(Error::Config(format!(
            "The topic prefix \"{prefix}\" cannot be used: it must not be empty, end in /, or hold + # or NUL."
        )));
    }
    Ok(())
}
