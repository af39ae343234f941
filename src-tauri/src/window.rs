//! The window: shown on request, created with its webview only then, and
//! destroyed (webview and all) when closed to the tray.

use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use crate::state::AppState;

pub const MAIN_WINDOW: &str = "main";

/// When this process started (as near as `main` can tell): the start of
/// "launch to first painted roster".
static LAUNCHED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The moment of the first call, which `main` makes first thing.
pub fn launched() -> std::time::Instant {
    *LAUNCHED.get_or_init(std::time::Instant::now)
}

/// Shows the window, creating it (and its webview) if it is not there: the
/// app starts without one when started in the tray, and closing the window
/// destroys it. The page draws itself from the app's state (`get_state`),
/// so a new window shows the present at once.
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN_WINDOW) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    if let Some(state) = app.try_state::<AppState>() {
        *state.window_opened.lock().unwrap() = Some(std::time::Instant::now());
    }
    let built = WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App("index.html".into()))
        .title("Presently")
        .inner_size(420.0, 640.0)
        .min_inner_size(340.0, 420.0)
        .focused(true)
        .build();
    if let Err(e) = built {
        tracing::error!("the window could not be created: {e}");
    }
}

/// With the window gone, WebKitGTK keeps its network process for the web
/// context the app holds, though no page is left to use it. Ending it gives
/// the tray app back its memory; WebKit starts a new one with the next
/// window. The web content process has gone with the webview already.
#[cfg(target_os = "linux")]
pub fn end_idle_webkit_network_process<R: Runtime>(app: AppHandle<R>) {
    std::thread::spawn(move || {
        // Let the page's process end first, as WebKit does it.
        std::thread::sleep(std::time::Duration::from_secs(1));
        if app.get_webview_window(MAIN_WINDOW).is_some() {
            return;
        }
        let me = std::process::id();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // `pid (comm) state ppid ...`: comm may hold spaces, not the rest.
            let Some((head, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let Some((pid, comm)) = head.split_once(" (") else {
                continue;
            };
            let parent: Option<u32> = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
            if parent == Some(me) && comm.starts_with("WebKitNetworkPr") {
                if let Ok(pid) = pid.trim().parse::<libc::pid_t>() {
                    // SAFETY: a signal to a child of this process, by PID.
                    unsafe { libc::kill(pid, libc::SIGTERM) };
                    tracing::debug!("ended WebKit's idle network process {pid}");
                }
            }
        }
    });
}
