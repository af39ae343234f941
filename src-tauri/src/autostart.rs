//! Start at login: registers this executable, with [`MINIMIZED_ARG`] so that
//! it starts hidden in the tray, with the per-user autostart mechanism of the
//! OS. Off until the user turns it on.
//!
//! - Linux and other XDG desktops: `$XDG_CONFIG_HOME/autostart/presently.desktop`
//! - macOS: a LaunchAgent, `~/Library/LaunchAgents/app.presently.desktop.plist`
//! - Windows: the `Presently` value of `HKCU\...\CurrentVersion\Run`
//!
//! Each registration is removed by turning the setting off; nothing else in
//! the system is touched.

use std::path::PathBuf;

use crate::error::AutostartError;

/// The argument the registered command starts with: tray only, no window.
pub const MINIMIZED_ARG: &str = "--minimized";

/// Whether Presently is registered to start at login.
pub fn is_enabled() -> bool {
    platform::is_enabled()
}

/// Registers (`true`) or removes (`false`) the start at login.
pub fn set_enabled(on: bool) -> Result<(), AutostartError> {
    if on {
        let exe = current_exe()?;
        platform::enable(&exe)
    } else {
        platform::disable()
    }
}

fn current_exe() -> Result<PathBuf, AutostartError> {
    std::env::current_exe().map_err(AutostartError::ExecutableUnknown)
}

#[cfg(all(unix, not(target_os = "macos")))]
mod platform {
    use std::path::{Path, PathBuf};

    use super::AutostartError;

    pub fn is_enabled() -> bool {
        autostart_dir().is_some_and(|dir| super::xdg::is_enabled_in(&dir))
    }

    pub fn enable(exe: &Path) -> Result<(), AutostartError> {
        super::xdg::enable_in(&dir()?, exe)
    }

    pub fn disable() -> Result<(), AutostartError> {
        match autostart_dir() {
            Some(dir) => super::xdg::disable_in(&dir),
            None => Ok(()),
        }
    }

    /// `$XDG_CONFIG_HOME/autostart`, `~/.config/autostart` by default.
    fn autostart_dir() -> Option<PathBuf> {
        dirs::config_dir().map(|config| config.join("autostart"))
    }

    fn dir() -> Result<PathBuf, AutostartError> {
        autostart_dir().ok_or(AutostartError::NoHomeFolder)
    }
}

/// The XDG Autostart entry (freedesktop.org "Desktop Application Autostart
/// Specification"), kept apart from the environment so tests can point it at
/// a temporary directory.
#[cfg(all(unix, not(target_os = "macos")))]
mod xdg {
    use std::path::{Path, PathBuf};

    use super::AutostartError;

    const FILE_NAME: &str = "presently.desktop";

    fn entry_path(dir: &Path) -> PathBuf {
        dir.join(FILE_NAME)
    }

    /// An entry counts as on unless the desktop has been told to skip it
    /// (GNOME's and KDE's startup settings write `Hidden=true` or
    /// `X-GNOME-Autostart-enabled=false` instead of deleting the file).
    pub fn is_enabled_in(dir: &Path) -> bool {
        let Ok(text) = std::fs::read_to_string(entry_path(dir)) else {
            return false;
        };
        !text.lines().map(str::trim).any(|line| {
            line.eq_ignore_ascii_case("Hidden=true")
                || line.eq_ignore_ascii_case("X-GNOME-Autostart-enabled=false")
        })
    }

    pub fn enable_in(dir: &Path, exe: &Path) -> Result<(), AutostartError> {
        // Creating the folder counts as writing the entry: the person
        // cares about the file, which names the folder too.
        let failed = |source| AutostartError::Write {
            path: entry_path(dir),
            source,
        };
        std::fs::create_dir_all(dir).map_err(failed)?;
        std::fs::write(entry_path(dir), desktop_entry(exe)).map_err(failed)
    }

    pub fn disable_in(dir: &Path) -> Result<(), AutostartError> {
        match std::fs::remove_file(entry_path(dir)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(AutostartError::Remove {
                path: entry_path(dir),
                source,
            }),
        }
    }

    fn desktop_entry(exe: &Path) -> String {
        format!(
            "[Desktop Entry]\n\
             Type=Application\n\
             Name=Presently\n\
             Comment=Teammates' Teams presence at a glance\n\
             Exec={} {}\n\
             Icon=presently\n\
             Terminal=false\n\
             StartupNotify=false\n\
             X-GNOME-Autostart-enabled=true\n",
            exec_argument(&exe.to_string_lossy()),
            super::MINIMIZED_ARG,
        )
    }

    /// One argument of an `Exec` key: quoted when it holds a reserved
    /// character, `%` doubled (field codes), then the string escape of the
    /// file format applied on top, which doubles every backslash.
    fn exec_argument(arg: &str) -> String {
        const RESERVED: &[char] = &[
            ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#',
            '(', ')', '`',
        ];
        let mut quoted = String::new();
        if arg.contains(RESERVED) {
            quoted.push('"');
            for c in arg.chars() {
                if matches!(c, '"' | '`' | '$' | '\\') {
                    quoted.push('\\');
                }
                quoted.push(c);
            }
            quoted.push('"');
        } else {
            quoted.push_str(arg);
        }
        quoted
            .replace('%', "%%")
            .replace('\\', "\\\\")
            .replace('\n', "\\n")
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn turning_on_and_off_writes_and_removes_the_entry() {
            let dir = tempfile::tempdir().unwrap();
            let autostart = dir.path().join("autostart");
            assert!(!is_enabled_in(&autostart), "off by default");

            enable_in(&autostart, Path::new("/usr/bin/presently-desktop")).unwrap();
            assert!(is_enabled_in(&autostart));
            let text = std::fs::read_to_string(autostart.join("presently.desktop")).unwrap();
            assert!(text.starts_with("[Desktop Entry]\n"), "{text}");
            assert!(
                text.lines()
                    .any(|l| l == "Exec=/usr/bin/presently-desktop --minimized"),
                "{text}"
            );
            assert!(text.lines().any(|l| l == "Type=Application"), "{text}");

            // Turning it on twice keeps one entry.
            enable_in(&autostart, Path::new("/usr/bin/presently-desktop")).unwrap();
            assert_eq!(std::fs::read_dir(&autostart).unwrap().count(), 1);

            disable_in(&autostart).unwrap();
            assert!(!is_enabled_in(&autostart));
            assert!(!autostart.join("presently.desktop").exists());
            // Turning off what is already off is not an error.
            disable_in(&autostart).unwrap();
        }

        #[test]
        fn a_folder_that_cannot_be_made_names_the_entry() {
            let dir = tempfile::tempdir().unwrap();
            // A file where the folder should be.
            let autostart = dir.path().join("autostart");
            std::fs::write(&autostart, "").unwrap();
            let e = enable_in(&autostart, Path::new("/usr/bin/presently-desktop")).unwrap_err();
            assert!(matches!(e, AutostartError::Write { .. }), "{e:?}");
            let told = e.to_string();
            let entry = autostart.join("presently.desktop");
            assert!(
                told.starts_with(&format!(
                    "Could not turn on start at login: writing {} failed (",
                    entry.display()
                )),
                "{told}"
            );
        }

        #[test]
        fn an_executable_path_with_spaces_and_percent_stays_one_argument() {
            assert_eq!(
                exec_argument("/home/ann/My Apps/presently-desktop"),
                r#""/home/ann/My Apps/presently-desktop""#
            );
            assert_eq!(exec_argument("/opt/100%/presently"), "/opt/100%%/presently");
            // `\` inside quotes is escaped, and the file format doubles it again.
            assert_eq!(exec_argument(r"/opt/a\b"), r#""/opt/a\\\\b""#);
            assert_eq!(exec_argument("/opt/$HOME"), r#""/opt/\\$HOME""#);
        }

        #[test]
        fn an_entry_the_desktop_has_switched_off_counts_as_off() {
            let dir = tempfile::tempdir().unwrap();
            enable_in(dir.path(), Path::new("/usr/bin/presently-desktop")).unwrap();
            let path = dir.path().join("presently.desktop");
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(
                &path,
                text.replace(
                    "X-GNOME-Autostart-enabled=true",
                    "X-GNOME-Autostart-enabled=false",
                ),
            )
            .unwrap();
            assert!(!is_enabled_in(dir.path()));
            std::fs::write(&path, format!("{text}Hidden=true\n")).unwrap();
            assert!(!is_enabled_in(dir.path()));
        }
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use std::path::{Path, PathBuf};

    use super::AutostartError;

    pub fn is_enabled() -> bool {
        agent_path().is_some_and(|path| path.exists())
    }

    pub fn enable(exe: &Path) -> Result<(), AutostartError> {
        let path = agent_path().ok_or(AutostartError::NoHomeFolder)?;
        let failed = |source| AutostartError::Write {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        std::fs::write(&path, super::launch_agent(exe)).map_err(failed)
    }

    pub fn disable() -> Result<(), AutostartError> {
        let Some(path) = agent_path() else {
            return Ok(());
        };
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(AutostartError::Remove { path, source }),
        }
    }

    fn agent_path() -> Option<PathBuf> {
        dirs::home_dir().map(|home| {
            home.join("Library/LaunchAgents")
                .join(format!("{}.plist", super::LAUNCH_AGENT_LABEL))
        })
    }
}

/// The LaunchAgent's label: the bundle identifier, as macOS's Login Items
/// settings show it.
#[cfg(any(target_os = "macos", test))]
const LAUNCH_AGENT_LABEL: &str = "app.presently.desktop";

/// A LaunchAgent that runs Presently once when the user logs in (no
/// `KeepAlive`: quitting from the tray means quit).
#[cfg(any(target_os = "macos", test))]
fn launch_agent(exe: &std::path::Path) -> String {
    fn xml(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
    <key>Label</key>
    <string>{label}</string>
    <key>ProgramArguments</key>
    <array>
        <string>{exe}</string>
        <string>{arg}</string>
    </array>
    <key>RunAtLoad</key>
    <true/>
    <key>ProcessType</key>
    <string>Interactive</string>
</dict>
</plist>
"#,
        label = LAUNCH_AGENT_LABEL,
        exe = xml(&exe.to_string_lossy()),
        arg = MINIMIZED_ARG,
    )
}

#[cfg(windows)]
mod platform {
    use std::path::Path;

    use winreg::enums::{HKEY_CURRENT_USER, KEY_READ, KEY_SET_VALUE};
    use winreg::RegKey;

    use super::AutostartError;

    const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
    /// Where Task Manager's Startup tab records that the user switched an
    /// entry off, without deleting it from `Run`.
    const STARTUP_APPROVED: &str =
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run";
    const VALUE: &str = "Presently";

    pub fn is_enabled() -> bool {
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let registered = hkcu
            .open_subkey_with_flags(RUN, KEY_READ)
            .and_then(|run| run.get_value::<String, _>(VALUE))
            .is_ok();
        registered && !switched_off_in_task_manager(&hkcu)
    }

    /// The first byte of the value is even (2, 6) when on and odd (3, 7)
    /// when off.
    fn switched_off_in_task_manager(hkcu: &RegKey) -> bool {
        hkcu.open_subkey_with_flags(STARTUP_APPROVED, KEY_READ)
            .and_then(|key| key.get_raw_value(VALUE))
            .is_ok_and(|value| value.bytes.first().is_some_and(|b| b & 1 == 1))
    }

    pub fn enable(exe: &Path) -> Result<(), AutostartError> {
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let (run, _) = hkcu.create_subkey(RUN).map_err(AutostartError::Register)?;
        let command = format!("\"{}\" {}", exe.display(), super::MINIMIZED_ARG);
        run.set_value(VALUE, &command)
            .map_err(AutostartError::Register)?;
        // A switch-off recorded by Task Manager would otherwise still win.
        if let Ok(approved) = hkcu.open_subkey_with_flags(STARTUP_APPROVED, KEY_SET_VALUE) {
            let _ = approved.delete_value(VALUE);
        }
        Ok(())
    }

    pub fn disable() -> Result<(), AutostartError> {
        let hkcu = RegKey::predef(HKEY_CURRENT_USER);
        let Ok(run) = hkcu.open_subkey_with_flags(RUN, KEY_SET_VALUE) else {
            return Ok(());
        };
        match run.delete_value(VALUE) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(AutostartError::Unregister(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sentences the window shows, word for word as they were when
    /// these errors were plain strings.
    #[test]
    fn each_failure_says_what_was_tried_and_why() {
        let denied = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let why = denied().to_string();
        let path = PathBuf::from("/home/ann/.config/autostart/presently.desktop");
        let cases = [
            (
                AutostartError::ExecutableUnknown(denied()),
                format!("Could not turn on start at login: the location of Presently is unknown ({why})."),
            ),
            (
                AutostartError::NoHomeFolder,
                "Could not turn on start at login: your home folder could not be found.".into(),
            ),
            (
                AutostartError::Write { path: path.clone(), source: denied() },
                format!("Could not turn on start at login: writing /home/ann/.config/autostart/presently.desktop failed ({why})."),
            ),
            (
                AutostartError::Remove { path, source: denied() },
                format!("Could not turn off start at login: removing /home/ann/.config/autostart/presently.desktop failed ({why})."),
            ),
            (
                AutostartError::Register(denied()),
                format!("Could not turn on start at login: Windows refused to register Presently ({why})."),
            ),
            (
                AutostartError::Unregister(denied()),
                format!("Could not turn off start at login: Windows refused to remove Presently ({why})."),
            ),
        ];
        for (error, sentence) in cases {
            assert_eq!(error.to_string(), sentence);
        }
    }

    #[test]
    fn the_launch_agent_runs_this_executable_minimized_at_login() {
        let plist = launch_agent(std::path::Path::new(
            "/Applications/Presently & Co.app/Contents/MacOS/presently",
        ));
        assert!(plist.contains("<string>app.presently.desktop</string>"));
        assert!(plist.contains(
            "<string>/Applications/Presently &amp; Co.app/Contents/MacOS/presently</string>\n        <string>--minimized</string>"
        ), "{plist}");
        assert!(
            plist.contains("<key>RunAtLoad</key>\n    <true/>"),
            "{plist}"
        );
        assert!(!plist.contains("KeepAlive"));
    }
}
