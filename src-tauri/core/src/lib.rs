//! Presently's engine. It knows nothing of Tauri: the desktop app and the
//! `presently` command line are two front ends of this one crate.
//!
//! The map, from the bottom up: each line's modules use only those of the
//! lines above it (`tests/layers.rs` holds the crate to it).
//! - [`error`], [`secret`], [`text`], [`how_long`], [`browser`]: the one
//!   error type, with stable codes for the UI and scripts; the wrapper that
//!   keeps tokens out of logs and files; text made safe to show; how long,
//!   in words; opening web pages, for both front ends.
//! - [`cloud`], [`html_text`], [`http`], [`token_store`], [`toml_file`]:
//!   which Microsoft cloud; status messages written in HTML, read as text;
//!   the one HTTP client setup (OS roots, proxies, no redirects, bounded
//!   answers); tokens kept in the OS keyring only; TOML files written back
//!   with people's comments kept, and private files written whole.
//! - [`config_file`], [`presence`]: the config file as people wrote it, its
//!   problems named with the key and the line; Graph's presence answer,
//!   typed.
//! - [`broker`], [`quiet_hours`], [`status`]: an MQTT broker's address and
//!   the `[mqtt]` table, checked where they are read; quiet hours of the
//!   local day and the `[quiet_hours]` table; a presence in words and the
//!   kind of its dot, for every front end.
//! - [`config`]: which cloud, tenant and app, and where files live.
//! - `args`, [`auth`], [`roster`]: the flags both front ends take (feature
//!   `args`); sign-in in the browser (PKCE) or with a device code on the
//!   `oauth2` crate, and silent refresh with rotating refresh tokens, or
//!   the app signing in as itself (a relay's client credentials); the
//!   teammates to watch, kept in a file.
//! - `demo`, [`graph`], [`teams`]: both front ends against a simulated
//!   tenant (feature `demo`); requests to Microsoft Graph with retries and
//!   throttling; links to a chat or call with a teammate.
//! - [`calendar`], [`directory`], [`engine`]: when teammates will be free,
//!   from their free/busy and working hours, read on a budget of its own;
//!   finding people in Graph (search, manager, reports, people, group
//!   members, photos); polling presence in batches and turning answers into
//!   changes.
//! - [`import`], [`my_status`], [`notify`], [`watch`]: putting people on the
//!   roster with one set of rules for both front ends; setting your own
//!   presence and status message, with the permission asked for on first
//!   use; the notification policy (bell, quiet hours, pause, own Do Not
//!   Disturb, merging bursts); changes printed as lines.
//! - [`publish`]: changes sent on over MQTT and webhooks.
//! - [`monitor`]: the desktop app's state (sign-in, roster with presence,
//!   health, own presence, notifications) on top of the same engine.

#[cfg(feature = "args")]
pub mod args;
pub mod auth;
pub mod broker;
pub mod browser;
pub mod calendar;
pub mod cloud;
pub mod config;
pub mod config_file;
#[cfg(feature = "demo")]
pub mod demo;
pub mod directory;
pub mod engine;
pub mod error;
pub mod graph;
pub mod how_long;
pub mod html_text;
pub mod http;
pub mod import;
pub mod monitor;
pub mod my_status;
pub mod notify;
pub mod presence;
pub mod publish;
pub mod quiet_hours;
pub mod roster;
pub mod secret;
pub mod status;
pub mod teams;
pub mod text;
pub mod token_store;
pub mod toml_file;
pub mod watch;

pub use error::{Error, Result};
pub use secret::Secret;
