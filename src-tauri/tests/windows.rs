//! The app crate's Windows-only code, on Windows (under Wine in `make
//! windows`): start at login through the registry's `Run` key, where the
//! app keeps its files, and a second launch handing over to the first. Below
//! the webview, which Wine lacks.
#![cfg(windows)]

use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use presently::autostart;
use winreg::enums::{HKEY_CURRENT_USER, KEY_READ, KEY_SET_VALUE};
use winreg::RegKey;

const RUN: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
const STARTUP_APPROVED: &str =
    r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run";

/// The registry is the user's, one for every test in this binary.
static REGISTRY: Mutex<()> = Mutex::new(());

/// The `Presently` value of the `Run` key, read back through the registry.
fn run_value() -> Option<String> {
    RegKey::predef(HKEY_CURRENT_USER)
        .open_subkey_with_flags(RUN, KEY_READ)
        .and_then(|run| run.get_value::<String, _>("Presently"))
        .ok()
}

#[test]
fn start_at_login_writes_and_removes_the_run_value() {
    let _registry = REGISTRY.lock().unwrap();
    autostart::set_enabled(false).unwrap();
    assert_eq!(run_value(), None);
    assert!(!autostart::is_enabled());

    autostart::set_enabled(true).unwrap();
    let exe = std::env::current_exe().unwrap();
    // Quoted, as the path may have spaces (C:\Program Files\...).
    assert_eq!(
        run_value().as_deref(),
        Some(format!("\"{}\" --minimized", exe.display()).as_str())
    );
    assert!(autostart::is_enabled());
    // Turning it on twice is the same as once.
    autostart::set_enabled(true).unwrap();
    assert!(autostart::is_enabled());

    autostart::set_enabled(false).unwrap();
    assert_eq!(run_value(), None);
    assert!(!autostart::is_enabled());
    // Off when it is already off is not an error.
    autostart::set_enabled(false).unwrap();
}

/// Task Manager's Startup tab switches an entry off without removing it from
/// `Run`: the setting shows off, and turning it on again wins over it.
#[test]
fn a_switch_off_in_task_manager_shows_as_off_until_turned_on_again() {
    let _registry = REGISTRY.lock().unwrap();
    autostart::set_enabled(true).unwrap();
    let hkcu = RegKey::predef(HKEY_CURRENT_USER);
    let (approved, _) = hkcu.create_subkey(STARTUP_APPROVED).unwrap();
    // What Task Manager writes: 12 bytes, the first odd when switched off.
    let off = winreg::RegValue {
        bytes: vec![3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0].into(),
        vtype: winreg::enums::RegType::REG_BINARY,
    };
    approved.set_raw_value("Presently", &off).unwrap();
    assert!(run_value().is_some());
    assert!(!autostart::is_enabled(), "switched off in Task Manager");

    autostart::set_enabled(true).unwrap();
    assert!(autostart::is_enabled());
    let approved = hkcu
        .open_subkey_with_flags(STARTUP_APPROVED, KEY_READ | KEY_SET_VALUE)
        .unwrap();
    assert!(
        approved.get_raw_value("Presently").is_err(),
        "the switch-off is gone"
    );
    autostart::set_enabled(false).unwrap();
}

/// The log files go to `%LOCALAPPDATA%\Presently\logs`, on this machine and
/// not in a roaming profile; settings and roster to `%APPDATA%\presently`.
#[test]
fn files_live_in_the_windows_folders_of_the_user() {
    let local = known_folder(&windows_sys::Win32::UI::Shell::FOLDERID_LocalAppData);
    let roaming = known_folder(&windows_sys::Win32::UI::Shell::FOLDERID_RoamingAppData);
    assert_eq!(
        presently::logging::log_dir().unwrap(),
        local.join("Presently").join("logs")
    );
    let config_dir = presently_core::config::default_config_dir().unwrap();
    assert_eq!(config_dir, roaming.join("presently"));
    assert!(
        config_dir.to_string_lossy().contains(r"\AppData\Roaming\"),
        "{}",
        config_dir.display()
    );
}

/// A known folder's path, asked of Windows itself (`SHGetKnownFolderPath`).
fn known_folder(id: &windows_sys::core::GUID) -> std::path::PathBuf {
    use std::os::windows::ffi::OsStringExt;
    let mut path = std::ptr::null_mut();
    // SAFETY: Windows allocates `path`, a NUL-terminated wide string, which
    // is read once and then freed with CoTaskMemFree as documented.
    unsafe {
        assert_eq!(
            windows_sys::Win32::UI::Shell::SHGetKnownFolderPath(
                id,
                0,
                std::ptr::null_mut(),
                &mut path
            ),
            0
        );
        let len = (0..).take_while(|&i| *path.add(i) != 0).count();
        let text = std::ffi::OsString::from_wide(std::slice::from_raw_parts(path, len));
        windows_sys::Win32::System::Com::CoTaskMemFree(path.cast());
        text.into()
    }
}

/// Waits up to `limit` for `done`.
fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A top-level window of this class (or any) and title, as Windows finds it.
fn find_window(class: Option<&str>, title: &str) -> bool {
    let wide = |s: &str| s.encode_utf16().chain([0]).collect::<Vec<u16>>();
    let (class, title) = (class.map(wide), wide(title));
    let class = class.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: both strings are NUL-terminated and outlive the call.
    !unsafe { windows_sys::Win32::UI::WindowsAndMessaging::FindWindowW(class, title.as_ptr()) }
        .is_null()
}

/// Everything in the app's log files.
fn logged() -> String {
    std::fs::read_dir(presently::logging::log_dir().unwrap())
        .into_iter()
        .flatten()
        .flatten()
        .map(|file| std::fs::read_to_string(file.path()).unwrap_or_default())
        .collect()
}

/// Starting Presently while it runs (the Start menu again, `presently`)
/// hands over to the running app, which shows its window, and ends at once:
/// one tray icon, one poller. The app's own log file, in
/// `%LOCALAPPDATA%\Presently\logs`, has what the first one did.
#[test]
fn a_second_launch_hands_over_to_the_first_and_ends() {
    let app = env!("CARGO_BIN_EXE_presently-desktop");
    let refusals = |text: &str| text.matches("the window could not be created").count();
    let refused_before = refusals(&logged());
    let mut first = Command::new(app)
        .args(["--demo", "--minimized"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Up once tauri-plugin-single-instance's message window is there.
    wait_for(
        "the first launch's message window",
        Duration::from_secs(60),
        || {
            assert!(
                first.try_wait().unwrap().is_none(),
                "the first launch ended"
            );
            find_window(
                Some("app.presently.desktop-sic"),
                "app.presently.desktop-siw",
            )
        },
    );

    let mut second = Command::new(app)
        .arg("--demo")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut ended = None;
    wait_for("the second launch to end", Duration::from_secs(30), || {
        ended = second.try_wait().unwrap();
        ended.is_some()
    });
    assert_eq!(ended.unwrap().code(), Some(0));

    // The first was asked for its window: Windows shows it; Wine, which has
    // no WebView2, makes it say in its log that it could not.
    wait_for(
        "the first launch to open its window",
        Duration::from_secs(30),
        || find_window(None, "Presently") || refusals(&logged()) > refused_before,
    );
    assert!(first.try_wait().unwrap().is_none(), "the first one goes on");
    first.kill().unwrap();
    let _ = first.wait();
    assert!(
        logged().contains("presently"),
        "the log file is in {}",
        presently::logging::log_dir().unwrap().display()
    );
}
