//! `presently` without a command, `presently --demo` and `presently
//! --minimized`: the desktop app, which is a program of its own
//! (`presently-desktop`, installed beside this one) so that the command line
//! links no GUI library. It gets the same arguments.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The desktop app's file name.
#[cfg(not(windows))]
pub const DESKTOP: &str = "presently-desktop";
#[cfg(windows)]
pub const DESKTOP: &str = "presently-desktop.exe";

/// Starts the desktop app with this process's arguments. On Unix it takes
/// this process's place, so the app has the same process ID (what started
/// `presently` is waiting for the app, as it always was).
pub fn start() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let Some(app) = find() else {
        eprintln!(
            "presently: the desktop app ({DESKTOP}) is not installed next to this program. Install the Presently package for the window and tray icon; in a terminal, `presently watch` (or `presently watch --demo`) shows presence without it."
        );
        return ExitCode::from(crate::exit::EXIT_ERROR);
    };
    let mut command = Command::new(&app);
    command.args(&args);
    run(command, &app)
}

#[cfg(unix)]
fn run(mut command: Command, app: &Path) -> ExitCode {
    use std::os::unix::process::CommandExt;
    // Only returns if the app could not be started.
    let e = command.exec();
    eprintln!("presently: could not start {}: {e}", app.display());
    ExitCode::from(crate::exit::EXIT_ERROR)
}

#[cfg(not(unix))]
fn run(mut command: Command, app: &Path) -> ExitCode {
    // A window program: started, and the console is given back at once.
    match command.spawn() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("presently: could not start {}: {e}", app.display());
            ExitCode::from(crate::exit::EXIT_ERROR)
        }
    }
}

/// The desktop app beside this program (as the packages install it, and as
/// `cargo build` leaves it), else on `PATH`.
fn find() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(DESKTOP)))
        .filter(|p| p.is_file());
    beside.or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(DESKTOP))
                .find(|p| p.is_file())
        })
    })
}
