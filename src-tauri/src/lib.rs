//! The `presently` app crate: adapters only. The engine is `presently-core`;
//! this crate turns it into a command line ([`cli`]) and a tray app.

pub mod cli;
pub mod demo;
