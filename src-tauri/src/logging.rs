//! Where the app's log lines go: stderr (quiet unless `RUST_LOG` asks) and,
//! for the tray app, a log file in the OS's log location, one file a day,
//! the last [`KEEP_FILES`] kept, each at most [`MAX_FILE_BYTES`].
//!
//! Tokens never reach the log: the engine holds them as
//! [`presently_core::Secret`], which prints `[redacted]`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer, Registry};

/// How many daily files stay on disk, today's included.
pub const KEEP_FILES: usize = 7;
/// The most one day's file holds. Past it, the day's further lines are left
/// out, after one that says so: an error repeated in a loop cannot fill the
/// disk (all files together: at most 70 MiB).
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

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
        (Some(dir), Ok(note)) => {
            if let Some(note) = note {
                tracing::warn!("{note}");
            }
            Some(dir)
        }
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

/// What opening the log file gave: a note to log when something about
/// its folder was put right, or why there is no file.
type Opened = Result<Option<String>, tracing_appender::rolling::InitError>;

/// The subscriber [`init`] installs, with the file in `dir` and `rust_log`
/// as the filter of both; kept apart so tests can use it without touching the
/// process-wide one or the environment.
fn subscriber(
    dir: Option<&Path>,
    rust_log: Option<&str>,
) -> (impl tracing::Subscriber + Send + Sync, Opened) {
    capped_subscriber(dir, rust_log, MAX_FILE_BYTES)
}

/// [`subscriber`] with files of at most `cap` bytes.
fn capped_subscriber(
    dir: Option<&Path>,
    rust_log: Option<&str>,
    cap: u64,
) -> (impl tracing::Subscriber + Send + Sync, Opened) {
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter(rust_log, STDERR_DEFAULT));
    let (file, opened) = match dir.map(|dir| daily_file(dir, cap)).transpose() {
        Ok(Some((file, note))) => (Some(file), Ok(note)),
        Ok(None) => (None, Ok(None)),
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

/// `presently.YYYY-MM-DD.log` in `dir`, of at most `cap` bytes a day;
/// opening it removes all but the newest files so that [`KEEP_FILES`]
/// remain. With a note when the folder's permissions were put right.
fn daily_file(
    dir: &Path,
    cap: u64,
) -> Result<(CappedFile, Option<String>), tracing_appender::rolling::InitError> {
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
    let note = make_private(dir);
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("presently")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)?;
    let file = CappedFile {
        appender,
        dir: dir.to_path_buf(),
        cap,
        today: Mutex::new((String::new(), 0)),
    };
    Ok((file, note))
}

/// Checked at every start, not only when the folder is made: one left
/// readable by others (an older version, a copy, a restore) is made the
/// user's alone again, and said so.
#[cfg(unix)]
fn make_private(dir: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir).ok()?.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return None;
    }
    Some(
        match std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)) {
            Ok(()) => format!(
                "The log folder {} could be read by others (mode {mode:o}); it is the user's alone again.",
                dir.display()
            ),
            Err(e) => format!(
                "The log folder {} can be read by others (mode {mode:o}) and could not be made private: {e}",
                dir.display()
            ),
        },
    )
}

#[cfg(not(unix))]
fn make_private(_dir: &Path) -> Option<String> {
    None
}

/// The day's log file, written up to `cap` bytes.
struct CappedFile {
    appender: RollingFileAppender,
    dir: PathBuf,
    cap: u64,
    /// The day, as the file's name has it, and what its file holds.
    today: Mutex<(String, u64)>,
}

impl CappedFile {
    /// Writes one formatted line, or leaves it out once the day's file is
    /// full (the first line left out is replaced by one that says so).
    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        // The appender names its files by the UTC date.
        let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let mut today = self.today.lock().unwrap_or_else(|e| e.into_inner());
        if today.0 != day {
            // An earlier run today may have written to it already.
            let name = format!("presently.{day}.log");
            let size = std::fs::metadata(self.dir.join(name)).map_or(0, |m| m.len());
            *today = (day, size);
        }
        if today.1 >= self.cap {
            return Ok(());
        }
        let mut out = self.appender.make_writer();
        if today.1 + line.len() as u64 > self.cap {
            today.1 = self.cap;
            return writeln!(
                out,
                "... this file reached its limit of {} KiB: the rest of today's lines are left out.",
                self.cap / 1024
            );
        }
        out.write_all(line)?;
        today.1 += line.len() as u64;
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CappedFile {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> LineWriter<'a> {
        LineWriter(self)
    }
}

/// What the log layer writes each line through (one `write` a line).
struct LineWriter<'a>(&'a CappedFile);

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write_line(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    fn a_days_file_stops_at_its_limit_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (subscriber, opened) = capped_subscriber(Some(dir.path()), None, 1024);
        opened.unwrap();
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..100 {
                tracing::warn!(target: "presently", "the same failure again, number {i}");
            }
        });
        let files = log_files(dir.path());
        let text = std::fs::read_to_string(dir.path().join(&files[0])).unwrap();
        assert!(text.len() <= 1024 + 120, "{}", text.len());
        assert!(text.contains("number 0"), "{text}");
        assert!(!text.contains("number 99"), "{text}");
        assert!(
            text.trim_end()
                .ends_with("the rest of today's lines are left out."),
            "{text}"
        );
        assert_eq!(text.matches("reached its limit").count(), 1, "{text}");
        // A second start the same day counts what the file holds already.
        let (subscriber, opened) = capped_subscriber(Some(dir.path()), None, 1024);
        opened.unwrap();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "presently", "after a restart");
        });
        let again = std::fs::read_to_string(dir.path().join(&files[0])).unwrap();
        assert_eq!(again, text);
        assert_eq!(MAX_FILE_BYTES, 10 * 1024 * 1024);
    }

    #[test]
    #[cfg(unix)]
    fn a_log_folder_others_can_read_is_made_private_at_start() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o755)).unwrap();
        let (_subscriber, opened) = subscriber(Some(&logs), None);
        let note = opened.unwrap().expect("said");
        assert!(note.contains("mode 755"), "{note}");
        let mode = std::fs::metadata(&logs).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let (_subscriber, opened) = subscriber(Some(&logs), None);
        assert_eq!(opened.unwrap(), None, "nothing to say the second time");
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
