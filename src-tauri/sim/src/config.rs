//! How a simulator is set up.

use std::time::Duration;

use crate::error::{Result, SimError};

/// The largest directory a simulator builds.
pub const MAX_USERS: usize = 50_000;

/// Bounds of [`SimConfig::access_token_chars`] and
/// [`SimConfig::refresh_token_chars`]: 64 KiB is far beyond any real token
/// and keeps a bearer header within what HTTP servers accept.
pub const MIN_TOKEN_CHARS: usize = 200;
pub const MAX_TOKEN_CHARS: usize = 64 * 1024;

/// Settings of a simulator. Start from `SimConfig::default()` and change
/// what a test needs, e.g. `SimConfig { auto_presence: false, ..Default::default() }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Directory size, 1 to [`MAX_USERS`].
    pub users: usize,
    /// Seeds the directory and the presence simulation: same seed, same
    /// people, same ids, same day.
    pub seed: u64,
    /// The tenant's id. The default is derived from the default seed; see
    /// [`SimConfig::tenant_id_for_seed`] to tie it to another seed.
    pub tenant_id: uuid::Uuid,
    /// The tenant's domain, used in user principal names.
    pub tenant_domain: String,
    pub access_token_lifetime: Duration,
    /// Lifetime of an app's own access token (the client credentials
    /// grant): its `expires_in`. Entra ID answers 3599.
    pub app_token_lifetime: Duration,
    pub device_code_lifetime: Duration,
    /// The device-code `interval`: polls closer together get `slow_down`.
    pub poll_interval: Duration,
    /// `getPresencesByUserId` requests allowed per `rate_window`, per app
    /// (client id) in the tenant, whoever's token the app sends.
    pub rate_limit: u32,
    pub rate_window: Duration,
    /// Presence changes by itself like a working day.
    pub auto_presence: bool,
    /// Time between automatic presence changes; each tick is one simulated minute.
    pub presence_tick: Duration,
    /// Approve every sign-in at once as `users()[0]` (for demos): device
    /// codes and authorization requests alike. [`crate::Sim::set_auto_approve`]
    /// changes it while running.
    pub auto_approve: bool,
    /// Length of an access token. Real ones are JWTs of 1.5 to 3 KB that grow
    /// with group claims; plan for 8 KB. The token has exactly this many
    /// characters unless its claims alone need more (about 1,300), then it
    /// is as long as they need. From [`MIN_TOKEN_CHARS`] to [`MAX_TOKEN_CHARS`].
    pub access_token_chars: usize,
    /// Length of a refresh token, exactly. Real ones are opaque, 1 to 2 KB;
    /// plan for 4 KB. From [`MIN_TOKEN_CHARS`] to [`MAX_TOKEN_CHARS`].
    pub refresh_token_chars: usize,
    /// Serve HTTPS with a certificate from a private CA made at start (see
    /// [`crate::Sim::ca_certificate_pem`]), as clients behind a TLS-inspecting
    /// proxy meet it; [`crate::Sim::url`] then starts with `https://`.
    pub tls: bool,
}

impl SimConfig {
    /// The tenant id a simulator seeded with `seed` would naturally have.
    pub fn tenant_id_for_seed(seed: u64) -> uuid::Uuid {
        uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_URL,
            format!("https://presently.invalid/sim/tenant/{seed}").as_bytes(),
        )
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.users == 0 || self.users > MAX_USERS {
            return Err(SimError::InvalidConfig(format!(
                "users must be between 1 and {MAX_USERS}, not {}",
                self.users
            )));
        }
        if self.tenant_domain.trim().is_empty() || self.tenant_domain.contains(['/', '@', ' ']) {
            return Err(SimError::InvalidConfig(format!(
                "'{}' is not a domain name",
                self.tenant_domain
            )));
        }
        let sizes = [
            ("access_token_chars", self.access_token_chars),
            ("refresh_token_chars", self.refresh_token_chars),
        ];
        for (name, chars) in sizes {
            if !(MIN_TOKEN_CHARS..=MAX_TOKEN_CHARS).contains(&chars) {
                return Err(SimError::InvalidConfig(format!(
                    "{name} must be between {MIN_TOKEN_CHARS} and {MAX_TOKEN_CHARS}, not {chars}"
                )));
            }
        }
        let zero = [
            ("access_token_lifetime", self.access_token_lifetime),
            ("app_token_lifetime", self.app_token_lifetime),
            ("device_code_lifetime", self.device_code_lifetime),
            ("rate_window", self.rate_window),
            ("presence_tick", self.presence_tick),
        ];
        if let Some((name, _)) = zero.iter().find(|(_, d)| d.is_zero()) {
            return Err(SimError::InvalidConfig(format!(
                "{name} must be longer than zero"
            )));
        }
        Ok(())
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            users: 40,
            seed: 42,
            tenant_id: SimConfig::tenant_id_for_seed(42),
            tenant_domain: "contoso.onmicrosoft.com".to_owned(),
            access_token_lifetime: Duration::from_secs(3600),
            app_token_lifetime: Duration::from_secs(3599),
            device_code_lifetime: Duration::from_secs(900),
            poll_interval: Duration::from_secs(5),
            rate_limit: 1500,
            rate_window: Duration::from_secs(30),
            auto_presence: true,
            presence_tick: Duration::from_secs(5),
            auto_approve: false,
            access_token_chars: 2_400,
            refresh_token_chars: 1_600,
            tls: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_sizes_are_checked() {
        assert!(SimConfig::default().validate().is_ok());
        for (access, refresh) in [(199, 1_600), (2_400, 64 * 1024 + 1), (2_400, 0)] {
            let config = SimConfig {
                access_token_chars: access,
                refresh_token_chars: refresh,
                ..SimConfig::default()
            };
            let err = config.validate().unwrap_err().to_string();
            assert!(err.contains("must be between 200 and 65536"), "{err}");
        }
        let largest = SimConfig {
            access_token_chars: MAX_TOKEN_CHARS,
            refresh_token_chars: MIN_TOKEN_CHARS,
            ..SimConfig::default()
        };
        assert!(largest.validate().is_ok());
    }
}
