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

/// Sets what GTK and WebKit read from the environment at start, where the
/// user has not set it: called first thing in `main`, before any thread.
///
/// - `GDK_GL=disable` on X11. GTK 3 asks GLX for its visuals when it opens
///   an X11 display, which maps Mesa (about 25 MiB: the driver and LLVM)
///   into an app that may spend its whole day in the tray. Nothing here
///   draws through GDK's GL on X11: WebKitGTK's GTK 3 port renders with its
///   own EGL display (opened with the first webview) and paints with cairo.
///   On Wayland WebKit does use GDK's GL when it can, so GTK is left alone.
/// - `JSC_useJIT=0`: the window's JavaScript runs in JavaScriptCore's
///   interpreter. The page is small and mostly waits for events; without
///   the JIT the open window costs 7 MiB less with 50 teammates and 130 MiB
///   less with 2,000, paints a large roster sooner on a busy machine, and
///   writes no executable memory (see BENCHMARKS.md).
#[cfg(target_os = "linux")]
pub fn prepare_environment() {
    let env = |name: &str| std::env::var_os(name);
    for (name, value) in environment_additions(env, |path| path.exists()) {
        std::env::set_var(name, value);
    }
}

/// At most two malloc arenas in this process (glibc makes up to eight a
/// core, one for each thread that meets a busy lock): the tray app's threads
/// (the engine's runtime, WebKit's and GTK's) are idle nearly always, and
/// each arena keeps the free pages of its own. With two, the tray app holds
/// about 2.5 MiB less after its window was open and closed (bench/app).
/// Called first thing in `main`, before any other thread exists.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn limit_malloc_arenas() {
    // SAFETY: mallopt only sets a tuning parameter of the allocator; it is
    // called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// The variables [`prepare_environment`] sets, given the environment.
#[cfg(target_os = "linux")]
fn environment_additions(
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
    exists: impl Fn(&std::path::Path) -> bool,
) -> Vec<(&'static str, &'static str)> {
    let mut add = Vec::new();
    if gdk_gl_probe_skippable(&env, exists) {
        add.push(("GDK_GL", "disable"));
    }
    if env("JSC_useJIT").is_none() {
        add.push(("JSC_useJIT", "0"));
    }
    add
}

/// Whether GTK will open an X11 display and nobody chose a `GDK_GL`: the
/// backend named first in `GDK_BACKEND` is x11, or none is named, a display
/// is set and no Wayland compositor can be reached (GTK tries Wayland first,
/// and libwayland falls back to `$XDG_RUNTIME_DIR/wayland-0`).
#[cfg(target_os = "linux")]
fn gdk_gl_probe_skippable(
    env: &impl Fn(&str) -> Option<std::ffi::OsString>,
    exists: impl Fn(&std::path::Path) -> bool,
) -> bool {
    let set = |name: &str| env(name).is_some_and(|v| !v.is_empty());
    if env("GDK_GL").is_some() {
        return false;
    }
    if let Some(backends) = env("GDK_BACKEND").filter(|v| !v.is_empty()) {
        let backends = backends.to_string_lossy().to_ascii_lowercase();
        let first = backends.split(',').next().unwrap_or("").trim();
        if first != "*" {
            return first == "x11";
        }
    }
    let wayland_socket = env("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .is_some_and(|dir| exists(&std::path::Path::new(&dir).join("wayland-0")));
    set("DISPLAY") && !set("WAYLAND_DISPLAY") && !set("WAYLAND_SOCKET") && !wayland_socket
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

/// What the tray app does once its window is gone (destroyed, webview and
/// all): it ends WebKit's idle network process, then gives back the pages of
/// the libraries only the window runs and the heap's free pages.
///
/// WebKitGTK keeps its network process for the web context the app holds,
/// though no page is left to use it: ending it gives the tray app back its
/// memory, and WebKit starts a new one with the next window. The web content
/// process has gone with the webview already.
#[cfg(target_os = "linux")]
pub fn after_window_closed<R: Runtime>(app: AppHandle<R>) {
    std::thread::spawn(move || {
        // Let the page's process end first, as WebKit does it.
        std::thread::sleep(std::time::Duration::from_secs(1));
        if app.get_webview_window(MAIN_WINDOW).is_some() {
            return;
        }
        end_idle_webkit_network_process();
        // And let WebKit's side of this process finish its teardown.
        std::thread::sleep(std::time::Duration::from_secs(2));
        if app.get_webview_window(MAIN_WINDOW).is_some() {
            return;
        }
        let released = drop_window_library_pages();
        tracing::debug!(
            "gave back {} KiB of the window's libraries",
            released / 1024
        );
        // And the heap's free pages, which the window's teardown left in
        // malloc's arenas (this thread's and the others').
        // SAFETY: malloc_trim only returns free memory to the system.
        #[cfg(target_env = "gnu")]
        unsafe {
            libc::malloc_trim(0)
        };
    });
}

#[cfg(target_os = "linux")]
fn end_idle_webkit_network_process() {
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
}

/// The libraries only the window runs in this process: WebKit's and
/// JavaScriptCore's UI side, and the OpenGL driver WebKit loads with its
/// first webview (Mesa, and the LLVM of its software renderer).
#[cfg(target_os = "linux")]
const WINDOW_LIBRARIES: &[&str] = &[
    "libwebkit2gtk",
    "libjavascriptcoregtk",
    "libLLVM",
    "libgallium",
    "_dri.so",
    "libEGL_mesa",
    "libGLX_mesa",
];

/// Drops from this process the pages of code and read-only data that the
/// window's libraries left in it: about 50 MiB after a window was open,
/// which the tray app would otherwise hold all day. The libraries stay
/// loaded and mapped; what the next window runs is read back from the page
/// cache (or the disk) as it runs. Returns the bytes dropped.
///
/// Only mappings that are read-only and hold no page of their own are
/// touched: every page they hold is the file's, so `MADV_DONTNEED` on a
/// private mapping changes nothing a later read sees (the page is read from
/// the file again). Relocated data (RELRO, read-only after the loader wrote
/// it) holds pages of its own and is left alone, as are writable mappings.
/// `MADV_PAGEOUT` would be the gentler advice, but the kernel skips the
/// large page-cache folios that libraries are read into.
#[cfg(target_os = "linux")]
fn drop_window_library_pages() -> usize {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let mut dropped = 0;
    for (start, end) in window_library_ranges(&smaps) {
        // SAFETY: a range this process maps, read from its own smaps a
        // moment ago: read-only, backed by a library file and holding only
        // the file's pages (see above), so dropping them loses nothing. A
        // range unmapped since then gets ENOMEM, and nothing happens.
        let done =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if done == 0 {
            dropped += end - start;
        }
    }
    dropped
}

/// The mappings of [`WINDOW_LIBRARIES`] in a `/proc/PID/smaps` text that are
/// readable, not writable, and hold no anonymous page.
#[cfg(target_os = "linux")]
fn window_library_ranges(smaps: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    // The mapping being read: its range, and whether it qualifies so far.
    let mut current: Option<(usize, usize)> = None;
    let mut finish = |current: &mut Option<(usize, usize)>| {
        if let Some(range) = current.take() {
            ranges.push(range);
        }
    };
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let Some(first) = fields.next() else {
            continue;
        };
        if let Some((start, end)) = first.split_once('-').filter(|_| !first.ends_with(':')) {
            // A header: `start-end perms offset dev inode [path]`.
            finish(&mut current);
            let perms = fields.next().unwrap_or("");
            let name = fields
                .nth(3)
                .and_then(|p| p.rsplit('/').next())
                .unwrap_or("");
            let window_only = WINDOW_LIBRARIES.iter().any(|lib| name.contains(lib));
            if window_only && perms.starts_with('r') && !perms.contains('w') {
                let start = usize::from_str_radix(start, 16).ok();
                let end = usize::from_str_radix(end, 16).ok();
                current = start.zip(end).filter(|(s, e)| e > s);
            }
        } else if first == "Anonymous:" && fields.next() != Some("0") {
            current = None;
        }
    }
    finish(&mut current);
    ranges
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{environment_additions, gdk_gl_probe_skippable, window_library_ranges};
    use std::ffi::OsString;
    use std::path::Path;

    fn skippable(vars: &[(&str, &str)], wayland_0: bool) -> bool {
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        };
        let exists = |path: &Path| wayland_0 && path == Path::new("/run/user/1000/wayland-0");
        gdk_gl_probe_skippable(&env, exists)
    }

    const RUNTIME: (&str, &str) = ("XDG_RUNTIME_DIR", "/run/user/1000");

    #[test]
    fn an_x11_session_skips_the_gl_probe() {
        assert!(skippable(&[("DISPLAY", ":0"), RUNTIME], false));
        assert!(skippable(
            &[("DISPLAY", ":0"), ("WAYLAND_DISPLAY", "")],
            false
        ));
        assert!(skippable(&[("DISPLAY", ":0"), ("GDK_BACKEND", "*")], false));
        // GTK is told to use X11, whatever else runs.
        for backend in ["x11", "X11,wayland", " x11 "] {
            let vars = [
                ("DISPLAY", ":0"),
                ("WAYLAND_DISPLAY", "wayland-1"),
                ("GDK_BACKEND", backend),
                RUNTIME,
            ];
            assert!(skippable(&vars, true), "{backend}");
        }
    }

    #[test]
    fn wayland_and_the_users_own_gdk_gl_are_left_alone() {
        // GTK tries Wayland first when a compositor can be reached.
        let both = [("DISPLAY", ":0"), ("WAYLAND_DISPLAY", "wayland-0"), RUNTIME];
        assert!(!skippable(&both, true));
        assert!(!skippable(
            &[("DISPLAY", ":0"), ("WAYLAND_SOCKET", "5")],
            false
        ));
        // libwayland's default socket, without WAYLAND_DISPLAY.
        assert!(!skippable(&[("DISPLAY", ":0"), RUNTIME], true));
        assert!(!skippable(
            &[("GDK_BACKEND", "wayland,x11"), ("DISPLAY", ":0")],
            false
        ));
        // No display at all: the app says so itself.
        assert!(!skippable(&[RUNTIME], false));
        // Whatever the user chose, even an empty value.
        for gl in ["", "always", "disable"] {
            let vars = [("DISPLAY", ":0"), ("GDK_GL", gl)];
            assert!(!skippable(&vars, false), "{gl:?}");
        }
    }

    #[test]
    fn javascript_runs_without_a_jit_unless_the_user_chose() {
        let x11 = |name: &str| (name == "DISPLAY").then(|| OsString::from(":0"));
        assert_eq!(
            environment_additions(x11, |_| false),
            [("GDK_GL", "disable"), ("JSC_useJIT", "0")]
        );
        let chosen = |name: &str| match name {
            "DISPLAY" => Some(OsString::from(":0")),
            "GDK_GL" | "JSC_useJIT" => Some(OsString::from("1")),
            _ => None,
        };
        assert_eq!(environment_additions(chosen, |_| false), []);
        let wayland = |name: &str| (name == "WAYLAND_DISPLAY").then(|| OsString::from("wayland-0"));
        assert_eq!(
            environment_additions(wayland, |_| false),
            [("JSC_useJIT", "0")]
        );
    }

    #[test]
    fn only_the_read_only_mappings_of_the_windows_libraries_are_paged_out() {
        let mapping = |header: &str, anonymous: u32| {
            format!("{header}\nSize: 1024 kB\nRss: 512 kB\nAnonymous: {anonymous} kB\nVmFlags: rd mr mw me\n")
        };
        let maps: String = [
            (
                "7f0000000000-7f0000100000 r--p 00000000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                0,
            ),
            (
                "7f0000100000-7f0003000000 r-xp 00100000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                0,
            ),
            // RELRO: read-only now, but the loader wrote its pages.
            (
                "7f0003000000-7f0003080000 r--p 03000000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                496,
            ),
            (
                "7f0003080000-7f0003100000 rw-p 03080000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                12,
            ),
            (
                "7f0004000000-7f0004800000 r-xp 00000000 fe:01 12 /usr/lib/dri/swrast_dri.so",
                0,
            ),
            (
                "7f0005000000-7f0005800000 r-xp 00000000 fe:01 13 /usr/lib/libgtk-3.so.0",
                0,
            ),
            (
                "7f0006000000-7f0006001000 ---p 00000000 fe:01 14 /usr/lib/libLLVM-15.so.1",
                0,
            ),
            ("7f0007000000-7f0007100000 rw-p 00000000 00:00 0", 1024),
            (
                "55d000000000-55d000100000 r-xp 00000000 fe:01 15 /opt/presently/presently-desktop",
                0,
            ),
        ]
        .iter()
        .map(|(header, anonymous)| mapping(header, *anonymous))
        .collect();
        assert_eq!(
            window_library_ranges(&maps),
            [
                (0x7f00_0000_0000, 0x7f00_0010_0000),
                (0x7f00_0010_0000, 0x7f00_0300_0000),
                (0x7f00_0400_0000, 0x7f00_0480_0000),
            ]
        );
        assert_eq!(
            window_library_ranges("garbage\n\n1-2 r-xp\nRss: 4 kB\n"),
            []
        );
    }
}
