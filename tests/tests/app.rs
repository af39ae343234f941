//! The two programs: `presently`, the command line, which links no GUI
//! library, and `presently-desktop`, the tray app it starts, one instance
//! at a time.

use std::time::Duration;

use presently_e2e::{app_logs, desktop_bin, presently_bin, wait_for, PrivateSession, Run, TestEnv};

/// The D-Bus name tauri-plugin-single-instance holds for this app.
const INSTANCE_NAME: &str = "app.presently.desktop.SingleInstance";

#[tokio::test]
async fn a_second_launch_hands_over_to_the_first_and_ends() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = PrivateSession::start();
    let mut first = env.command(&[]);
    session.apply(&mut first);
    let mut first = first.spawn().unwrap();
    wait_for("the first instance", Duration::from_secs(60), || {
        session.name_has_owner(INSTANCE_NAME)
    })
    .await;

    let mut second = env.command(&[]);
    session.apply(&mut second);
    let second = Run::of(second).await;
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert!(second.took < Duration::from_secs(30));
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first one keeps running"
    );
    assert!(session.name_has_owner(INSTANCE_NAME));
    first.kill().await.unwrap();
}

/// What a desktop start that fails left behind: its run, its log, and what
/// a notification daemon on its session bus was asked to show. `display`
/// is `DISPLAY`, or none at all.
struct FailedStart {
    run: Run,
    logged: String,
    notified: String,
}

async fn failed_start(args: &[&str], display: Option<&str>) -> FailedStart {
    let env = TestEnv::new(TestEnv::quick()).await;
    let mut session = PrivateSession::without_keyring();
    let shown = session.home.path().join("notifications.log");
    session.notification_daemon(&shown);
    let state = tempfile::tempdir().unwrap();
    let mut cmd = env.command(args);
    session.apply(&mut cmd);
    match display {
        Some(display) => cmd.env("DISPLAY", display),
        None => cmd.env_remove("DISPLAY"),
    };
    cmd.env_remove("WAYLAND_DISPLAY")
        .env_remove("GDK_BACKEND")
        .env("XDG_STATE_HOME", state.path());
    let run = Run::of(cmd).await;
    FailedStart {
        run,
        logged: app_logs(state.path()),
        notified: std::fs::read_to_string(&shown).unwrap_or_default(),
    }
}

#[tokio::test]
async fn without_a_display_it_says_what_to_use_instead() {
    let FailedStart {
        run,
        logged,
        notified,
    } = failed_start(&[], None).await;
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("presently watch"), "{}", run.stderr);
    // Started at login, nobody sees stderr: the log has it, and a
    // notification says it.
    assert!(logged.contains("no display found"), "{logged}");
    assert!(
        notified.contains("Presently could not start") && notified.contains("no display found"),
        "{notified}"
    );
}

#[tokio::test]
async fn a_display_that_cannot_be_opened_is_named_in_the_log_and_a_notification() {
    // At login the X server may not be up yet: a display nobody serves.
    let FailedStart {
        run,
        logged,
        notified,
    } = failed_start(&["--minimized"], Some(":97")).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("could not open the display :97"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        logged.contains("could not open the display :97"),
        "{logged}"
    );
    assert!(
        notified.contains("Presently could not start")
            && notified.contains("could not open the display :97"),
        "{notified}"
    );
}

/// Libraries of a desktop: none of them may be one the command line needs.
const GUI_LIBRARIES: &[&str] = &[
    "gtk",
    "gdk",
    "webkit",
    "javascriptcore",
    "soup",
    "appindicator",
    "ayatana",
    "libX",
    "xcb",
    "wayland",
    "cairo",
    "pango",
    "rsvg",
    "xdo",
];

fn needed(binary: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("readelf")
        .arg("-d")
        .arg(binary)
        .output()
        .expect("readelf is installed (binutils)");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.split(']').next().map(str::to_string))
        .collect()
}

#[test]
fn the_command_line_links_no_gui_library_and_the_desktop_app_does() {
    let cli = needed(&presently_bin());
    assert!(!cli.is_empty(), "a dynamically linked program");
    for lib in &cli {
        assert!(
            !GUI_LIBRARIES.iter().any(|gui| lib.contains(gui)),
            "presently needs {lib}: {cli:?}"
        );
    }
    // The check would see them: the desktop app has them.
    let desktop = needed(&desktop_bin());
    assert!(desktop.iter().any(|l| l.contains("gtk")), "{desktop:?}");
}

#[tokio::test]
async fn without_the_desktop_app_beside_it_the_command_line_says_so_and_still_works() {
    let alone = tempfile::tempdir().unwrap();
    let cli = alone.path().join("presently");
    std::fs::copy(presently_bin(), &cli).unwrap();
    for args in [&[][..], &["--demo"], &["--minimized"]] {
        let mut cmd = tokio::process::Command::new(&cli);
        // Not beside it, and not on PATH either.
        cmd.args(args)
            .env("PATH", "/usr/bin:/bin")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let run = Run::of(cmd).await;
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("presently-desktop"), "{}", run.stderr);
        assert!(run.stderr.contains("not installed"), "{}", run.stderr);
    }
    let version = std::process::Command::new(&cli)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("presently {}", env!("CARGO_PKG_VERSION"))
    );
}

#[tokio::test]
async fn the_command_line_starts_the_desktop_app_with_its_arguments() {
    // `presently --minimized` becomes the desktop app itself: same process,
    // same arguments (it stays in the tray and holds the instance name).
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = PrivateSession::start();
    let mut app = env.command(&["--minimized"]);
    session.apply(&mut app);
    let mut app = app.spawn().unwrap();
    let pid = app.id().unwrap();
    wait_for("the desktop app", Duration::from_secs(60), || {
        session.name_has_owner(INSTANCE_NAME)
    })
    .await;
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap();
    assert!(exe.ends_with("presently-desktop"), "{}", exe.display());
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        cmdline.split(|b| *b == 0).any(|a| a == b"--minimized"),
        "{}",
        String::from_utf8_lossy(&cmdline)
    );
    app.kill().await.unwrap();
}
