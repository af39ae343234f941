//! The tray, as a desktop's panel sees it: each test runs a
//! StatusNotifierWatcher on its private bus, so that the app finds a tray,
//! and reads the tray item and its menu over D-Bus as a panel does. Closing
//! the window keeps the app in the tray; the menu lists favorites with their
//! status and the app's actions, which work; the icon shows your own
//! presence in Teams' colours.

use std::time::Duration;

use presently_e2e::{
    app_logs, close_window, curl_browser, presence, wait_for, window_shown, MenuEntry,
    PrivateSession, TestEnv, TrayIcon,
};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_secs(20);

// Teams' colours: what the icon's dot must show.
const GREEN: [u8; 3] = [0x6b, 0xb7, 0x00];
const RED: [u8; 3] = [0xc4, 0x31, 0x4b];
const GREY: [u8; 3] = [0x8a, 0x88, 0x86];

const OPEN: &str = "Open Presently";
const PAUSE: &str = "Pause notifications for 1 hour";
const RESUME: &str = "Resume notifications";
const SIGN_OUT: &str = "Sign out";
/// Signed in only (and not in the China cloud): your own status.
const SET_STATUS: &str = "Set my status";
const QUIT: &str = "Quit";

/// A private session with a tray in it: the app started in it sees one.
fn session_with_tray(env: &TestEnv) -> PrivateSession {
    let mut session = PrivateSession::start();
    session.status_notifier_watcher();
    std::fs::write(env.config_dir.path().join("config.toml"), "interval = 5\n").unwrap();
    session
}

/// `presently ARGS` in `session`, and its process id.
fn start(env: &TestEnv, session: &PrivateSession, args: &[&str]) -> (tokio::process::Child, u32) {
    let mut app = env.command(args);
    session.apply(&mut app);
    let app = app.spawn().unwrap();
    let pid = app.id().unwrap();
    (app, pid)
}

/// Waits until the app's item is in the tray, shown.
async fn wait_for_tray_item(session: &PrivateSession) {
    wait_for("the app's icon in the tray", LONG, || {
        session
            .tray_item()
            .is_some_and(|item| item["Status"] == "Active")
    })
    .await;
}

fn labels(menu: &[MenuEntry]) -> Vec<&str> {
    menu.iter()
        .filter(|e| e.visible)
        .map(|e| if e.separator { "---" } else { e.label.as_str() })
        .collect()
}

fn entry<'a>(menu: &'a [MenuEntry], label: &str) -> &'a MenuEntry {
    menu.iter()
        .find(|e| e.label == label)
        .unwrap_or_else(|| panic!("no {label:?} in {:?}", labels(menu)))
}

/// Waits until the tray icon's dot is `colour`, and returns the icon.
async fn wait_for_icon(session: &PrivateSession, what: &str, colour: [u8; 3]) -> TrayIcon {
    let mut seen = None;
    let started = std::time::Instant::now();
    loop {
        if let Some(icon) = session.tray_icon() {
            if icon.main_colour() == Some(colour) {
                return icon;
            }
            seen = icon.main_colour();
        }
        assert!(
            started.elapsed() < LONG,
            "the tray icon never turned {what} {colour:02x?}; it is {seen:02x?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn closing_the_window_keeps_presently_in_the_tray_from_where_open_and_quit_work() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = session_with_tray(&env);
    let (mut app, pid) = start(&env, &session, &[]);

    wait_for_tray_item(&session).await;
    wait_for("the window", LONG, || window_shown(pid, "Presently")).await;

    // The window manager's close button.
    close_window(pid);
    wait_for("the window to go", SHORT, || {
        !window_shown(pid, "Presently")
    })
    .await;
    // Give a wrongly quitting app the time to end.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        app.try_wait().unwrap().is_none(),
        "closing the window ended the app, although there is a tray"
    );
    assert_eq!(
        session.tray_item().expect("still in the tray")["Status"],
        "Active"
    );

    session.tray_click(OPEN);
    wait_for("Open to show the window again", SHORT, || {
        window_shown(pid, "Presently")
    })
    .await;

    session.tray_click(QUIT);
    let status = tokio::time::timeout(SHORT, app.wait())
        .await
        .expect("Quit ends the app")
        .unwrap();
    assert!(status.success(), "Quit ends the app cleanly: {status:?}");
}

/// The WebKit processes (web content, network) that `pid` started.
fn webkit_children(pid: u32) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, the rest not.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
        let parent: Option<u32> = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if parent == Some(pid) && comm.starts_with("WebKit") {
            found.push(comm.to_string());
        }
    }
    found
}

/// The OpenGL libraries (Mesa's driver, LLVM) mapped into process `pid`.
fn gl_libraries(pid: u32) -> Vec<String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut found: Vec<String> = maps
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter_map(|path| path.rsplit('/').next())
        .filter(|name| {
            name.starts_with("libGLX_mesa")
                || name.starts_with("libEGL_mesa")
                || name.starts_with("libLLVM")
                || name.starts_with("libgallium")
                || name.ends_with("_dri.so")
        })
        .map(str::to_string)
        .collect();
    found.dedup();
    found
}

/// KiB of process `pid` resident in mappings of the libraries named.
fn resident_kib(pid: u32, libraries: &[&str]) -> u64 {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap();
    let mut counting = false;
    let mut kib = 0;
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if first.contains('-') && !first.ends_with(':') {
            // A mapping's header: `start-end perms offset dev inode [path]`.
            let path = line.split_whitespace().nth(5).unwrap_or("");
            counting = libraries.iter().any(|lib| path.contains(lib));
        } else if counting && first == "Rss:" {
            kib += line
                .split_whitespace()
                .nth(1)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    kib
}

/// How many times the app logged a roster painted in a newly opened window.
fn windows_painted(state: &std::path::Path) -> usize {
    app_logs(state)
        .matches("after the window was opened")
        .count()
}

/// `presently ARGS` in `session`, logging under a state dir of its own: the
/// child, its process id and the state dir.
fn start_logged(
    env: &TestEnv,
    session: &PrivateSession,
    args: &[&str],
) -> (tokio::process::Child, u32, tempfile::TempDir) {
    let state = tempfile::tempdir().unwrap();
    let mut app = env.command(args);
    session.apply(&mut app);
    app.env("XDG_STATE_HOME", state.path());
    let app = app.spawn().unwrap();
    let pid = app.id().unwrap();
    (app, pid, state)
}

#[tokio::test]
async fn in_the_tray_no_webview_runs_and_the_window_comes_back_current() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = session_with_tray(&env);
    env.login_in(&session).await;
    let teammate = &env.sim.users()[1];
    std::fs::write(
        env.config_dir.path().join("roster.toml"),
        format!(
            "[[teammate]]\nid = \"{}\"\ndisplay_name = \"{}\"\n",
            teammate.id, teammate.display_name
        ),
    )
    .unwrap();
    // Started at login: the tray only, no webview at all.
    let (mut app, pid, state) = start_logged(&env, &session, &["--minimized"]);
    wait_for_tray_item(&session).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        webkit_children(pid),
        Vec::<String>::new(),
        "a webview in the tray"
    );
    // Nor OpenGL: GTK's GLX probe is skipped on X11 (25 MiB of Mesa).
    assert_eq!(
        gl_libraries(pid),
        Vec::<String>::new(),
        "OpenGL in the tray"
    );

    // Open: the window, its webview, and the roster painted in it.
    session.tray_click(OPEN);
    wait_for("the window", LONG, || window_shown(pid, "Presently")).await;
    wait_for("the roster painted", LONG, || {
        windows_painted(state.path()) == 1
    })
    .await;
    assert!(
        !webkit_children(pid).is_empty(),
        "the window's webview runs"
    );

    // What only the window runs: WebKit's UI side and the OpenGL it loads.
    const WINDOW_LIBRARIES: &[&str] = &["libwebkit2gtk", "libjavascriptcoregtk", "libLLVM"];
    let with_window = resident_kib(pid, WINDOW_LIBRARIES);

    // Closed to the tray: the webview goes, with every WebKit process.
    close_window(pid);
    let started = std::time::Instant::now();
    while !webkit_children(pid).is_empty() {
        assert!(
            started.elapsed() < SHORT,
            "still running with the window closed: {:?}",
            webkit_children(pid)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        app.try_wait().unwrap().is_none(),
        "the app stays in the tray"
    );
    // And the pages of the window's libraries are given back.
    wait_for("the window's libraries paged out", SHORT, || {
        resident_kib(pid, WINDOW_LIBRARIES) < with_window / 2
    })
    .await;

    // Reopened: a new page, which draws the roster again from the app's state.
    session.tray_click(OPEN);
    wait_for("the window again", SHORT, || window_shown(pid, "Presently")).await;
    wait_for("the roster painted again", LONG, || {
        windows_painted(state.path()) == 2
    })
    .await;
    session.tray_click(QUIT);
    tokio::time::timeout(SHORT, app.wait())
        .await
        .expect("Quit ends the app")
        .unwrap();
}

#[tokio::test]
async fn the_tray_menu_shows_favorites_with_their_status_then_what_the_app_can_do() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = session_with_tray(&env);
    env.login_in(&session).await;

    let users = env.sim.users();
    let (meeting, free, not_a_favorite) = (&users[1], &users[2], &users[3]);
    env.sim
        .set_presence(&meeting.id, presence("Busy", "InAMeeting"))
        .unwrap();
    env.sim
        .set_presence(&free.id, presence("Available", "Available"))
        .unwrap();
    env.sim
        .set_presence(&not_a_favorite.id, presence("Away", "Away"))
        .unwrap();
    let mut roster = String::new();
    for (u, favorite) in [(meeting, true), (free, true), (not_a_favorite, false)] {
        roster += &format!(
            "[[teammate]]\nid = \"{}\"\ndisplay_name = \"{}\"\nnotify = false\nfavorite = {favorite}\n\n",
            u.id, u.display_name
        );
    }
    std::fs::write(env.config_dir.path().join("roster.toml"), roster).unwrap();

    // As started at login: in the tray, no window.
    let (mut app, pid) = start(&env, &session, &["--minimized"]);
    wait_for_tray_item(&session).await;

    let in_a_meeting = format!("● {} — Busy (In a meeting)", meeting.display_name);
    let available = format!("✔ {} — Available", free.display_name);
    let expected = [
        in_a_meeting.as_str(),
        available.as_str(),
        "---",
        OPEN,
        SET_STATUS,
        PAUSE,
        SIGN_OUT,
        "---",
        QUIT,
    ];
    let mut menu = Vec::new();
    wait_for("the favorites' status in the tray menu", LONG, || {
        menu = session.tray_menu().unwrap_or_default();
        labels(&menu) == expected && entry(&menu, SIGN_OUT).enabled
    })
    .await;
    for action in [OPEN, SET_STATUS, PAUSE, SIGN_OUT, QUIT] {
        assert!(entry(&menu, action).enabled, "{action} can be clicked");
    }
    assert!(
        !window_shown(pid, "Presently"),
        "started minimized with a tray, it shows no window"
    );

    // A favorite's change reaches the menu.
    env.sim
        .set_presence(&meeting.id, presence("Available", "Available"))
        .unwrap();
    let now_available = format!("✔ {} — Available", meeting.display_name);
    wait_for("the favorite's new status in the menu", LONG, || {
        let menu = session.tray_menu().unwrap_or_default();
        labels(&menu).first() == Some(&now_available.as_str())
    })
    .await;

    // Pause, and the same entry offers to resume; then resume.
    session.tray_click(PAUSE);
    wait_for("the menu to offer Resume", SHORT, || {
        let menu = session.tray_menu().unwrap_or_default();
        labels(&menu).contains(&RESUME) && !labels(&menu).contains(&PAUSE)
    })
    .await;
    session.tray_click(RESUME);
    wait_for("the menu to offer Pause again", SHORT, || {
        let menu = session.tray_menu().unwrap_or_default();
        labels(&menu).contains(&PAUSE) && !labels(&menu).contains(&RESUME)
    })
    .await;

    // Signed out, nobody's status is known any more: the window leaves the
    // roster for the sign-in screen, and the tray lists no stale statuses.
    session.tray_click(SIGN_OUT);
    wait_for("Sign out to be greyed out", SHORT, || {
        let menu = session.tray_menu().unwrap_or_default();
        menu.iter().any(|e| e.label == SIGN_OUT && !e.enabled)
    })
    .await;
    let menu = session.tray_menu().unwrap();
    assert_eq!(labels(&menu), [OPEN, PAUSE, SIGN_OUT, "---", QUIT]);

    app.kill().await.unwrap();
}

#[tokio::test]
async fn the_tray_icon_shows_your_own_presence_and_sign_out_from_the_tray_greys_it() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = session_with_tray(&env);
    let me = env.sim.users()[0].clone();
    env.sim
        .set_presence(&me.id, presence("Available", "Available"))
        .unwrap();
    env.login_in(&session).await;

    let (mut app, _) = start(&env, &session, &["--minimized"]);
    wait_for_tray_item(&session).await;

    let available = wait_for_icon(&session, "green (available)", GREEN).await;
    assert_eq!(
        available.pixel(0, 0)[3],
        0,
        "a round dot: transparent corners"
    );

    env.sim
        .set_presence(&me.id, presence("Busy", "InACall"))
        .unwrap();
    let busy = wait_for_icon(&session, "red (busy)", RED).await;
    assert_ne!(
        busy.name, available.name,
        "a new icon for the panel to load"
    );

    session.tray_click(SIGN_OUT);
    let signed_out = wait_for_icon(&session, "grey (signed out)", GREY).await;
    let centre = signed_out.pixel(signed_out.width / 2, signed_out.height / 2);
    assert_eq!(centre[3], 0, "signed out is a hollow ring: {centre:?}");

    app.kill().await.unwrap();
}

#[tokio::test]
async fn started_at_login_without_a_keyring_it_says_so_in_a_notification_and_the_log() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let mut session = PrivateSession::without_keyring();
    session.status_notifier_watcher();
    let notifications = session.home.path().join("notifications.log");
    session.notification_daemon(&notifications);
    let state = tempfile::tempdir().unwrap();

    let mut app = env.command(&["--minimized"]);
    session.apply(&mut app);
    app.env("XDG_STATE_HOME", state.path())
        .env("PRESENTLY_KEYRING_TIMEOUT", "3");
    let mut app = app.spawn().unwrap();
    wait_for("a notification about the keyring", LONG, || {
        std::fs::read_to_string(&notifications)
            .unwrap_or_default()
            .contains("keyring")
    })
    .await;
    wait_for("the reason in the log", SHORT, || {
        app_logs(state.path()).contains("sign-in failed (keyring)")
    })
    .await;
    assert!(app.try_wait().unwrap().is_none(), "it stays, in the tray");
    app.kill().await.unwrap();
}

#[tokio::test]
async fn a_bad_config_file_at_login_opens_the_window_with_the_problem_and_logs_it() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = session_with_tray(&env);
    std::fs::write(
        env.config_dir.path().join("config.toml"),
        "interval = 5\n\n[quiet_hours]\nenabled = true\nstart = \"6pm\"\n",
    )
    .unwrap();
    // Started at login, where it would stay in the tray: the window comes
    // up to say what is wrong, and the app keeps running.
    let (mut app, pid, state) = start_logged(&env, &session, &["--minimized"]);
    wait_for("the window, although started in the tray", LONG, || {
        window_shown(pid, "Presently")
    })
    .await;
    wait_for("the problem in the log", SHORT, || {
        let text = app_logs(state.path());
        text.contains("config.toml, line 5") && text.contains("\"6pm\" is not a time like 18:00")
    })
    .await;
    assert!(app.try_wait().unwrap().is_none(), "the app ended");
    app.kill().await.unwrap();
}

#[tokio::test]
async fn set_my_status_from_the_tray_asks_once_in_the_browser_then_the_icon_shows_it() {
    let env = TestEnv::new(TestEnv::quick()).await;
    let session = session_with_tray(&env);
    env.login_in(&session).await;
    // Signed in as the simulator's first user, online (a status set shows
    // only while one has a Teams session).
    let me = env.sim.users()[0].clone();
    env.sim
        .set_presence(&me.id, presence("Available", "Available"))
        .unwrap();
    // The browser of this desktop: it opens the page and Microsoft (the
    // simulator) approves at once.
    env.sim.set_auto_approve(true);
    let mut app = env.command(&["--minimized"]);
    session.apply(&mut app);
    app.env("BROWSER", curl_browser(None));
    let mut app = app.spawn().unwrap();
    wait_for_tray_item(&session).await;
    wait_for_icon(&session, "green (available)", GREEN).await;

    let mut statuses = Vec::new();
    wait_for("the statuses under Set my status", LONG, || {
        statuses = session.tray_submenu(SET_STATUS).unwrap_or_default();
        !statuses.is_empty()
    })
    .await;
    assert_eq!(
        labels(&statuses),
        [
            "Available",
            "Busy",
            "Do not disturb",
            "Be right back",
            "Appear away",
            "Appear offline",
            "---",
            "Reset status"
        ]
    );

    // The first time: the permission in the browser, then the status.
    session.tray_click("Busy");
    wait_for_icon(&session, "red (busy)", RED).await;
    assert_eq!(env.sim.presence(&me.id).unwrap().availability, "Busy");
    let asked = env
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/authorize"))
        .any(|r| r.query.unwrap_or_default().contains("Presence.ReadWrite"));
    assert!(asked, "the browser was asked for Presence.ReadWrite");

    // Then at once: back to what Teams works out.
    session.tray_click("Reset status");
    wait_for_icon(&session, "green again", GREEN).await;
    assert_eq!(env.sim.presence(&me.id).unwrap().availability, "Available");
    app.kill().await.unwrap();
}
