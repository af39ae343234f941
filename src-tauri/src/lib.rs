//! The desktop app, `presently-desktop`: adapters only. The engine is
//! `presently-core`; the command line is its own crate (`presently-cli`), so
//! that it links no GUI library.
//!
//! The map: [`app`] builds and runs the Tauri app; [`commands`] and
//! [`events`] are the window's side of it, [`tray`] the tray icon and menu;
//! [`autostart`] registers start at login; [`logging`] keeps the log file.

pub mod app;
pub mod autostart;
pub mod commands;
pub mod events;
pub mod logging;
pub mod tray;
