//! The `presently` app crate: adapters only. The engine is `presently-core`;
//! this crate turns it into a command line ([`cli`]) and a tray app ([`app`]:
//! [`commands`] and [`events`] for the window, [`tray`], notifications).

pub mod app;
pub mod autostart;
pub mod browser;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod events;
pub mod logging;
pub mod roster_cli;
pub mod tray;
