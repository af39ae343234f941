//! `presently-desktop`: the tray app and its window. `presently` (the command
//! line) starts it when run without a command, with the same arguments.

// No console window on Windows: this is a window program. The command line
// is the console program `presently`.
#![cfg_attr(
    all(not(debug_assertions), target_os = "windows"),
    windows_subsystem = "windows"
)]

use std::process::ExitCode;

use clap::Parser;
use presently_core::args::GlobalArgs;

#[derive(Parser, Debug)]
#[command(
    name = "presently-desktop",
    version,
    about = "Presently's tray app and window. In a terminal, use `presently`."
)]
struct DesktopArgs {
    #[command(flatten)]
    global: GlobalArgs,
}

fn main() -> ExitCode {
    presently::window::launched();
    // Before any thread starts and before GTK reads its environment.
    #[cfg(target_os = "linux")]
    presently::window::prepare_environment();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    presently::window::limit_malloc_arenas();
    let args = match DesktopArgs::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let _log_dir = presently::logging::init(true);
    presently::app::run(&args.global)
}
