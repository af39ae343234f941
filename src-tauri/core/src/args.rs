//! The flags every front end takes: where to sign in and where to keep
//! files, `--demo` and `--minimized`. The command line (`presently`) and the
//! desktop app (`presently-desktop`, which `presently` starts with the same
//! arguments) parse them alike.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::config::Overrides;
use crate::token_store::{KeyringStore, TokenStore, DEFAULT_TIMEOUT};

/// Where to sign in and where to keep files. Each flag also reads an
/// environment variable and, below that, the config file.
#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Microsoft cloud: global, usgov, dod or china.
    #[arg(long, env = "PRESENTLY_CLOUD", global = true)]
    pub cloud: Option<String>,
    /// Tenant: organizations (default), common, a tenant ID or a domain.
    #[arg(long, env = "PRESENTLY_TENANT", global = true)]
    pub tenant: Option<String>,
    /// Application (client) ID of the app registration to sign in with.
    #[arg(long, env = "PRESENTLY_CLIENT_ID", global = true)]
    pub client_id: Option<String>,
    /// Sign-in host, instead of the cloud's (the app appends /{tenant}/oauth2/v2.0/...).
    #[arg(long, env = "PRESENTLY_LOGIN_URL", global = true, value_name = "URL")]
    pub login_url: Option<String>,
    /// Microsoft Graph host, instead of the cloud's (the app appends /v1.0/...).
    #[arg(long, env = "PRESENTLY_GRAPH_URL", global = true, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Directory for the config file and the roster.
    #[arg(long, env = "PRESENTLY_CONFIG_DIR", global = true, value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Run against a simulated tenant started inside Presently (no Microsoft
    /// account needed); nothing is stored in your keyring or config dir.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Start in the tray without opening the window (start at login uses it).
    #[arg(long, hide = true)]
    pub minimized: bool,
}

impl GlobalArgs {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            cloud: self.cloud.clone(),
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            login_url: self.login_url.clone(),
            graph_url: self.graph_url.clone(),
            config_dir: self.config_dir.clone(),
            interval_secs: None,
            calendar: None,
        }
    }
}

/// The keyring, with the timeout from `PRESENTLY_KEYRING_TIMEOUT` (seconds).
pub fn keyring() -> std::sync::Arc<dyn TokenStore> {
    let timeout = std::env::var("PRESENTLY_KEYRING_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(DEFAULT_TIMEOUT);
    std::sync::Arc::new(KeyringStore::new(timeout))
}
