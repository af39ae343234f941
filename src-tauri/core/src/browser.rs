//! Opening a web page in the person's browser, for sign-in and Teams links.
//!
//! `BROWSER`, when set, names the browser (the Unix convention: commands
//! separated as `PATH` separates folders, `:`, or `;` on Windows, whose paths
//! have colons; `%s` standing for the address); otherwise the system's
//! default handler opens it. Only `http` and `https` addresses are opened,
//! never a file or a custom scheme from untrusted text.
//!
//! Programs started here (a browser, the desktop's opener, the editor of
//! [`open_file`]) get the environment Presently was given, not the one it
//! made for itself: variables it set for its own window
//! ([`set_for_this_process_only`]) are taken out of theirs.

use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Variables this process set for itself, left out of every child's.
static OWN_VARIABLES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());

/// Sets `name` for this process (and the helper processes its libraries
/// start, such as WebKit's), but not for the programs it opens: a browser
/// started with `JSC_useJIT=0` or `GDK_GL=disable` would run slower all
/// day. Call before any other thread exists.
pub fn set_for_this_process_only(name: &'static str, value: &str) {
    std::env::set_var(name, value);
    let mut own = OWN_VARIABLES.lock().unwrap_or_else(|e| e.into_inner());
    if !own.contains(&name) {
        own.push(name);
    }
}

/// Why a page or file was not opened, in a few words that the caller puts
/// in a sentence of its own ("Could not open your browser: ...").
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Not an `http` or `https` address: never handed to anything.
    #[error("that address is not a web page")]
    NotAWebPage,
    /// The desktop has no opener this system knows of.
    #[error("no program to open it with was found")]
    NoOpener,
    /// The desktop's opener could not be started.
    #[error("{program} could not be started ({source})")]
    OpenerNotStarted {
        program: String,
        source: std::io::Error,
    },
    /// The desktop's opener started and failed at once.
    #[error("{program} failed ({status})")]
    OpenerFailed {
        program: String,
        status: std::process::ExitStatus,
    },
    /// Whether the desktop's opener failed could not be found out.
    #[error("{program} could not be watched ({source})")]
    OpenerNotWatched {
        program: String,
        source: std::io::Error,
    },
    /// `BROWSER` is set but holds only separators.
    #[error("BROWSER names no command")]
    NoBrowserCommand,
    /// The last browser `BROWSER` names could not be started.
    #[error("{program}: {source}")]
    BrowserNotStarted {
        program: String,
        source: std::io::Error,
    },
}

/// `command` with the environment Presently was given.
fn as_given(mut command: Command) -> Command {
    for name in OWN_VARIABLES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        command.env_remove(name);
    }
    command
}

/// Opens `path` (a file of the user's own, such as `config.toml`) in the
/// program the desktop opens it with.
pub fn open_file(path: &std::path::Path) -> Result<(), OpenError> {
    open_detached(path.as_os_str())
}

/// Hands `target` to the desktop's opener: the first of its launchers
/// (`xdg-open`, `gio open`, ... on Linux) that does not fail at once.
fn open_detached(target: &std::ffi::OsStr) -> Result<(), OpenError> {
    let mut last = OpenError::NoOpener;
    for command in open::commands(target) {
        let program = command.get_program().to_string_lossy().into_owned();
        let mut command = as_given(command);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match command.spawn() {
            Ok(child) => match failed_at_once(child, program) {
                Ok(()) => return Ok(()),
                Err(why) => last = why,
            },
            Err(source) => last = OpenError::OpenerNotStarted { program, source },
        }
    }
    Err(last)
}

/// How long a launcher has to fail before it counts as started.
const LAUNCH_CHECK: Duration = Duration::from_millis(500);

/// Why `child`, started from `program`, failed within [`LAUNCH_CHECK`], if
/// it did. It is waited for in the background either way, so that it
/// leaves no zombie behind.
fn failed_at_once(mut child: Child, program: String) -> Result<(), OpenError> {
    let started = Instant::now();
    while started.elapsed() < LAUNCH_CHECK {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(OpenError::OpenerFailed { program, status }),
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(source) => return Err(OpenError::OpenerNotWatched { program, source }),
        }
    }
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Opens `url` and returns once the browser has been started.
pub fn open(url: &str) -> Result<(), OpenError> {
    let parsed = url::Url::parse(url).map_err(|_| OpenError::NotAWebPage)?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(OpenError::NotAWebPage);
    }
    match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(browsers) => open_with(&browsers, url),
        None => open_detached(std::ffi::OsStr::new(url)),
    }
}

/// What separates the commands of `BROWSER`: what separates `PATH`'s folders.
const SEPARATOR: char = if cfg!(windows) { ';' } else { ':' };

/// The first of `browsers` that starts gets `url`.
fn open_with(browsers: &str, url: &str) -> Result<(), OpenError> {
    let mut last = OpenError::NoBrowserCommand;
    for browser in browsers.split(SEPARATOR).filter(|b| !b.trim().is_empty()) {
        let mut words = words(browser).into_iter();
        let Some(program) = words.next() else {
            continue;
        };
        let mut args: Vec<String> = words.map(|w| w.replace("%s", url)).collect();
        if !browser.contains("%s") {
            args.push(url.to_string());
        }
        // Its output is not ours: a browser's chatter must not mix with
        // what `presently` prints for scripts.
        match as_given(Command::new(&program))
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(_) => return Ok(()),
            Err(source) => last = OpenError::BrowserNotStarted { program, source },
        }
    }
    Err(last)
}

/// A command's words: split at white space, except inside double quotes, so
/// that a program in `C:\Program Files` can be named.
fn words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in command.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                word.get_or_insert_with(String::new);
            }
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_pages_are_opened() {
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ms-teams:x",
            "not a url",
        ] {
            let e = open(bad).unwrap_err();
            assert!(matches!(e, OpenError::NotAWebPage), "{bad}: {e:?}");
            assert_eq!(e.to_string(), "that address is not a web page");
        }
    }

    #[test]
    fn a_quoted_program_may_have_spaces() {
        assert_eq!(
            words(r#""C:\Program Files\Firefox\firefox.exe" -new-tab  %s"#),
            [r"C:\Program Files\Firefox\firefox.exe", "-new-tab", "%s"]
        );
        assert_eq!(words("  curl -sfL "), ["curl", "-sfL"]);
        assert_eq!(words(r#"open """#), ["open", ""]);
    }

    /// Variables Presently set for itself stay out of what it starts; the
    /// rest of its environment goes on.
    #[cfg(unix)]
    #[test]
    fn programs_started_get_the_environment_presently_was_given() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("env");
        let script = dir.path().join("browser");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nenv > {}.part\nmv {0}.part {0}\n", out.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        set_for_this_process_only("PRESENTLY_TEST_OWN_ONLY", "0");
        assert_eq!(std::env::var("PRESENTLY_TEST_OWN_ONLY").as_deref(), Ok("0"));
        open_with(&script.display().to_string(), "https://example.test/").unwrap();
        let mut seen = String::new();
        for _ in 0..200 {
            if let Ok(text) = std::fs::read_to_string(&out) {
                seen = text;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        assert!(seen.contains("PATH="), "the browser ran: {seen}");
        assert!(!seen.contains("PRESENTLY_TEST_OWN_ONLY"), "{seen}");
    }

    /// A program that records its first argument in `out`.
    #[cfg(unix)]
    fn recording_browser(dir: &std::path::Path, out: &std::path::Path) -> std::path::PathBuf {
        let script = dir.join("browser");
        std::fs::write(
            &script,
            format!("#!/bin/sh\necho \"$1\" > {}\n", out.display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    /// The same, as a batch file: Windows starts those through cmd.exe.
    #[cfg(windows)]
    fn recording_browser(dir: &std::path::Path, out: &std::path::Path) -> std::path::PathBuf {
        let script = dir.join("browser.bat");
        std::fs::write(&script, format!("@echo %~1> \"{}\"\r\n", out.display())).unwrap();
        script
    }

    #[test]
    fn the_first_browser_that_starts_gets_the_address() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("opened");
        let script = recording_browser(dir.path(), &out);
        // A missing browser first, then one that records what it was given;
        // on Windows both are full paths, colon and all.
        let missing = dir.path().join("missing").join("browser");
        let browsers = format!("{}{SEPARATOR}{}", missing.display(), script.display());
        open_with(&browsers, "https://example.test/a?b=1").unwrap();
        for _ in 0..100 {
            if std::fs::read_to_string(&out).is_ok_and(|s| !s.is_empty()) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            std::fs::read_to_string(&out).unwrap().trim(),
            "https://example.test/a?b=1"
        );
        let e = open_with("/nonexistent/one", "https://example.test").unwrap_err();
        assert!(
            e.to_string().starts_with("/nonexistent/one: "),
            "the browser that could not be started, then why: {e}"
        );
        assert_eq!(
            open_with(&SEPARATOR.to_string(), "https://example.test")
                .unwrap_err()
                .to_string(),
            "BROWSER names no command"
        );
    }
}
