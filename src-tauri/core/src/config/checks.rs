//! The checks of values a person gives: poll interval, service URLs, tenant
//! and client ID. Each says in words what is wrong.

use std::time::Duration;

use url::Url;

use super::defaults::{DEFAULT_CLIENT_ID, MAX_INTERVAL, MIN_INTERVAL};
use crate::error::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{in_dir, Overrides, CONFIG_FILE};

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
