//! Presently's engine. It knows nothing of Tauri: the desktop app and the
//! `presently` command line are two front ends of this one crate.
//!
//! The map, following the data:
//! - [`config`] and [`cloud`]: which cloud, tenant and app; where files live.
//! - [`auth`]: sign-in in the browser (PKCE) or with a device code on the
//!   `oauth2` crate, silent refresh with rotating refresh tokens, and
//!   [`token_store`], which keeps tokens in the OS keyring only.
//! - [`http`]: the one HTTP client setup (OS roots, proxies, no redirects,
//!   bounded answers).
//! - [`graph`]: requests to Microsoft Graph with retries and throttling.
//! - [`presence`]: Graph's presence answer, typed, with status messages
//!   written in HTML read as text by [`html_text`]; [`engine`] polls it in
//!   batches and turns answers into changes; [`watch`] prints them as lines;
//!   [`publish`] sends them on over MQTT and webhooks, to a [`broker`]
//!   address checked where it is read.
//! - [`status`]: a presence in words and the kind of its dot, for every
//!   front end.
//! - [`roster`]: the teammates to watch, kept in a file; [`directory`] finds
//!   them in Graph (search, manager, reports, people, group members);
//!   [`import`] puts them on the roster with one set of rules for both front
//!   ends; [`teams`] links to a chat or call with them.
//! - [`my_status`]: setting your own presence and status message, with the
//!   permission asked for on first use.
//! - [`calendar`]: when teammates will be free, from their calendars'
//!   free/busy and working hours, read on a budget of its own.
//! - [`notify`]: the notification policy (bell, quiet hours, pause, own
//!   Do Not Disturb, merging bursts).
//! - [`monitor`]: the desktop app's state (sign-in, roster with presence,
//!   health, own presence, notifications) on top of the same engine.
//! - [`secret`]: the wrapper that keeps tokens out of logs and files.
//! - [`error`]: the one error type, with stable codes for the UI and scripts.
//! - For the two front ends: [`browser`] opens web pages; `args` (feature
//!   `args`) holds the flags both take; `demo` (feature `demo`) runs them
//!   against a simulated tenant.

#[cfg(feature = "args")]
pub mod args;
pub mod auth;
pub mod broker;
pub mod browser;
pub mod calendar;
pub mod cloud;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod directory;
pub mod engine;
pub mod error;
pub mod graph;
pub mod html_text;
pub mod http;
pub mod import;
pub mod monitor;
pub mod my_status;
pub mod notify;
pub mod presence;
pub mod publish;
pub mod roster;
pub mod secret;
pub mod status;
pub mod teams;
pub mod text;
pub mod token_store;
pub mod watch;

pub use error::{Error, Result};
pub use secret::Secret;
