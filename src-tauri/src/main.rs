//! `presently`: the tray app, and its command line (`login`, `watch`, ...).

// No console window on Windows for the tray app; the command line still works
// when started from a terminal.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

use std::process::ExitCode;

fn main() -> ExitCode {
    presently::app::launched();
    presently::cli::main()
}
