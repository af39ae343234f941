//! The desktop app, `presently-desktop`: adapters only. The engine is
//! `presently-core`; the command line is its own crate (`presently-cli`), so
//! that it links no GUI library.
//!
//! The map, from the bottom up (each uses only those above it):
//! - [`error`]: the crate's one error type, `{code, message}` for the window
//!   (with the start-at-login failures it wraps).
//! - [`events`]: every event the window gets, with its payload type.
//! - [`state`]: [`state::AppState`] (the monitor, and what the adapters
//!   keep from its events, as the tray's model).
//! - [`notifications`]: desktop notifications, their text escaped for the
//!   desktop's markup.
//! - [`window`]: the window, created when shown, destroyed when closed.
//! - [`tray`]: the tray icon and menu, drawn from the tray's model.
//! - [`autostart`] registers start at login; [`logging`] keeps the log file.
//! - [`commands`]: what the window may call, each thin.
//! - [`app`]: builds and runs the Tauri app, and forwards the monitor's
//!   events to the window, the tray and notifications.

pub mod app;
pub mod autostart;
pub mod commands;
pub mod error;
pub mod events;
pub mod logging;
pub mod notifications;
pub mod state;
pub mod tray;
pub mod window;
