//! Settings: where to sign in, which tenant and app, where to keep files.
//!
//! Each setting comes from, in order of precedence: a command-line flag, its
//! environment variable (both handled by the caller and passed in as
//! [`Overrides`]), the config file `config.toml` in the config dir, and the
//! default. The config file is plain TOML that people may edit; when the app
//! writes it back, only the keys it changed are rewritten: comments, the order
//! of keys and keys this version does not know are kept ([`crate::toml_file`]
//! does this for the roster too).
//!
//! Its parts, from the bottom up, each using only those above it:
//! - `defaults`: the defaults, the poll interval's bounds and the scopes;
//! - `checks`: values checked, each problem in words;
//! - `settings`: [`Overrides`] and [`Settings`], resolved;
//! - `change`: [`SettingsChange`] and [`save_calendar`], written back;
//! - `form`: [`SettingsForm`], the window's settings as typed, made into a
//!   change (the `[mqtt]` part by [`MqttForm`]).
//!
//! The file itself is [`ConfigFile`]; the `[quiet_hours]` and `[mqtt]`
//! tables are read beside what they set up ([`QuietHoursSetting`],
//! [`MqttSetting`]). All of them are re-exported here.

mod change;
mod checks;
mod defaults;
mod form;
mod settings;

pub use change::{save_calendar, SettingsChange};
pub use checks::{interval_from_secs, parse_service_url, validate_client_id, validate_tenant};
pub use defaults::{
    DEFAULT_CLIENT_ID, DEFAULT_INTERVAL, DEFAULT_TENANT, GROUP_SCOPE, MAX_INTERVAL, MIN_INTERVAL,
    SCOPES,
};
pub use form::{FormChange, QuietHoursForm, SettingsForm};
pub use settings::{default_config_dir, Overrides, Settings, CALENDAR_KEY};

pub use crate::broker::{MqttForm, MqttSetting};
pub use crate::config_file::{ConfigFile, CONFIG_FILE};
pub use crate::error::ConfigProblem;
pub use crate::quiet_hours::QuietHoursSetting;
pub use crate::toml_file::{create_private_dir, write_atomically};

/// The settings resolved with `dir` as the config dir, flags aside: the
/// tests of each part write the file there.
#[cfg(test)]
fn in_dir(dir: &std::path::Path, o: Overrides) -> crate::error::Result<Settings> {
    Settings::resolve(&Overrides {
        config_dir: Some(dir.to_path_buf()),
        ..o
    })
}
