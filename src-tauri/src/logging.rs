//! Where the app's log lines go: stderr (quiet unless `RUST_LOG` asks) and,
//! for the tray app, a log file in the OS's log location, one file a day,
//! the last [`KEEP_FILES`] kept.
//!
//! Tokens never reach the log: the engine holds them as
//! [`presently_core::Secret`], which prints `[redacted]`.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

/// How many daily files stay on disk, today's included.
pub const KEEP_FILES: usize = 7;

/// What stderr shows when `RUST_LOG` is not set: problems only.
const STDERR_DEFAULT: &str = "warn";
/// What the file keeps when `RUST_LOG` is not set: what the app did (sign-in,
/// polling, throttling), and problems from the libraries below it.
const FILE_DEFAULT: &str = "warn,presently=info,presently_core=info";

/// The directory of the log files: `$XDG_STATE_HOME/presently/logs` on Linux
/// (`~/.local/state/presently/logs`), `~/Library/Logs/Presently` on macOS,
/// `%LOCALAPPDATA%\Presently\logs` on Windows.
pub fn log_dir() -> Option<PathBuf> {
    #[cfg(target_os = "macos")]
    {
        dirs::home_dir().map(|home| home.join("Library/Logs/Presently"))
    }
    #[cfg(windows)]
    {
        dirs::data_local_dir().map(|local| local.join("Presently").join("logs"))
    }
    #[cfg(not(any(target_os = "macos", windows)))]
    {
        dirs::state_dir().map(|state| state.join("presently").join("logs"))
    }
}

/// Sends log lines to stderr and, with `to_file`, to the log file too.
/// Returns the directory of the log file when one is written; if it cannot be
/// opened the app carries on with stderr only and says so there.
///
/// Call it once, first thing in `main`; later calls change nothing.
pub fn init(to_file: bool) -> Option<PathBuf> {
    let dir = if to_file { log_dir() } else { None };
    let rust_log = std::env::var("RUST_LOG").ok();
    let (subscriber, opened) = subscriber(dir.as_deref(), rust_log.as_deref());
    if subscriber.try_init().is_err() {
        return None;
    }
    log_panics();
    match (dir, opened) {
        (Some(dir), Ok(())) => Some(dir),
        (Some(dir), Err(e)) => {
            tracing::warn!("no log file: could not open one in {}: {e}", dir.display());
            None
        }
        (None, _) => None,
    }
}

/// Sends what a panic says to the log as well as to stderr, which nobody
/// reads when the app was started at login.
fn log_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        tracing::error!("Presently stopped on an internal error: {info}");
        previous(info);
    }));
}

/// The subscriber [`init`] installs, with the file in `dir` and `rust_log`
/// as the filter of both; kept apart so tests can use it without touching the
/// process-wide one or the environment.
fn subscriber(
    dir: Option<&Path>,
    rust_log: Option<&str>,
) -> (
    impl tracing::Subscriber + Send + Sync,
    Result<(), tracing_appender::rolling::InitError>,
) {
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter(rust_log, STDERR_DEFAULT));
    let (file, opened) = match dir.map(daily_file).transpose() {
        Ok(appender) => (appender, Ok(())),
        Err(e) => (None, Err(e)),
    };
    // Each line is written before the call returns rather than through a
    // background thread: the tray app ends with `process::exit` (Tauri's
    // event loop never returns), which would drop what was still queued.
    let file = file.map(|appender| {
        fmt::layer()
            .with_writer(appender)
            .with_ansi(false)
            .with_filter(filter(rust_log, FILE_DEFAULT))
    });
    (Registry::default().with(stderr).with(file), opened)
}

fn filter(rust_log: Option<&str>, default: &str) -> EnvFilter {
    rust_log
        .filter(|directives| !directives.trim().is_empty())
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(default))
}

/// `presently.YYYY-MM-DD.log` in `dir`; opening it removes all but the
/// newest files so that [`KEEP_FILES`] remain.
fn daily_file(dir: &Path) -> Result<RollingFileAppender, tracing_appender::rolling::InitError> {
    // Made first: the appender lists the folder's old files before it makes
    // the folder, and on Windows a folder that is not there yet stopped it
    // (on the first start, no log file was ever written).
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    // Log lines name teammates: the folder is the user's alone (on Windows,
    // %LOCALAPPDATA% is already).
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    let _ = folder.create(dir);
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("presently")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_files(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_panic_is_logged() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let (subscriber, opened) = subscriber(Some(&logs), None);
        opened.unwrap();
        log_panics();
        tracing::subscriber::with_default(subscriber, || {
            let _ = std::panic::catch_unwind(|| panic!("a bug in test {}", 42));
        });
        let files = log_files(&logs);
        let text = std::fs::read_to_string(logs.join(&files[0])).unwrap();
        assert!(
            text.contains("ERROR") && text.contains("Presently stopped on an internal error"),
            "{text}"
        );
        assert!(text.contains("a bug in test 42"), "{text}");
        assert!(text.contains("logging.rs"), "where it happened: {text}");
    }

    #[test]
    fn the_log_file_has_the_app_lines_and_no_token() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        let (subscriber, opened) = subscriber(Some(&logs), None);
        opened.unwrap();
        let token = presently_core::Secret::new("eyJ0eXAiOiJKV1QiLCJub25jZSI6InNlY3JldCJ9");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "presently_core::auth", "refreshed the sign-in, token {token:?}");
            tracing::debug!(target: "presently_core::graph", "a detail nobody asked for");
        });

        let files = log_files(&logs);
        assert_eq!(files.len(), 1, "{files:?}");
        let name = &files[0];
        assert!(
            name.starts_with("presently.") && name.ends_with(".log"),
            "{name}"
        );
        let text = std::fs::read_to_string(logs.join(name)).unwrap();
        assert!(
            text.contains("refreshed the sign-in, token [redacted]"),
            "{text}"
        );
        assert!(!text.contains(token.expose()), "{text}");
        assert!(!text.contains("a detail nobody asked for"), "{text}");
        assert!(
            !text.contains('\u{1b}'),
            "no colour codes in a file: {text}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&logs).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[test]
    fn rust_log_asks_the_file_for_more() {
        let dir = tempfile::tempdir().unwrap();
        let (subscriber, opened) = subscriber(Some(dir.path()), Some("presently_core=debug"));
        opened.unwrap();
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "presently_core::graph", "polled 3 teammates");
        });
        let files = log_files(dir.path());
        let text = std::fs::read_to_string(dir.path().join(&files[0])).unwrap();
        assert!(text.contains("polled 3 teammates"), "{text}");
    }

    #[test]
    fn only_the_last_seven_days_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let old: Vec<String> = (1..=10)
            .map(|day| format!("presently.2020-01-{day:02}.log"))
            .collect();
        // The appender ages files by their creation time, which the file
        // system records at a coarse tick: space the files out.
        for name in &old {
            std::fs::write(dir.path().join(name), "old\n").unwrap();
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        std::fs::write(dir.path().join("notes.txt"), "not a log\n").unwrap();

        let (subscriber, opened) = subscriber(Some(dir.path()), None);
        opened.unwrap();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "presently", "started");
        });

        let files = log_files(dir.path());
        let logs: Vec<&String> = files.iter().filter(|f| f.ends_with(".log")).collect();
        assert_eq!(logs.len(), KEEP_FILES, "{files:?}");
        // The six newest old days and today's file survive.
        for name in &old[..4] {
            assert!(!files.contains(name), "{name} should be gone: {files:?}");
        }
        for name in &old[4..] {
            assert!(files.contains(name), "{name} should stay: {files:?}");
        }
        assert!(files.contains(&"notes.txt".to_string()), "{files:?}");
    }

    #[test]
    fn a_log_folder_that_cannot_be_created_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let (_subscriber, opened) = subscriber(Some(&blocker.join("logs")), None);
        assert!(opened.is_err());
    }

    #[test]
    #[cfg(all(unix, not(target_os = "macos")))]
    fn linux_logs_live_in_the_state_directory() {
        let dir = log_dir().expect("a home directory");
        assert!(dir.ends_with("presently/logs"), "{}", dir.display());
        assert_eq!(
            Some(dir.parent().unwrap().parent().unwrap()),
            dirs::state_dir().as_deref()
        );
    }
}
