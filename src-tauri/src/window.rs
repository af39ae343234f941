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
    // For this process and WebKit's, not for the browser or editor it opens.
    for (name, value) in environment_additions(env, |path| path.exists()) {
        presently_core::browser::set_for_this_process_only(name, value);
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
/// it) holds pages of its own and is left alone, as are writable mappings;
/// so is any mapping with pages in swap, where a relocated page that was
/// swapped out (zram, say) shows no anonymous page but would be lost.
/// Each library is pinned first (`RTLD_NOLOAD | RTLD_NODELETE`: it can
/// never be unloaded, so its ranges cannot come to hold anything else), and
/// each range is looked up again just before it is dropped.
/// `MADV_PAGEOUT` would be the gentler advice, but the kernel skips the
/// large page-cache folios that libraries are read into.
#[cfg(target_os = "linux")]
fn drop_window_library_pages() -> usize {
    let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
        return 0;
    };
    let mut libraries: Vec<&str> = maps
        .lines()
        .filter_map(Mapping::of)
        .filter(|(m, _)| m.is_window_library())
        .map(|(m, _)| m.path)
        .collect();
    libraries.sort_unstable();
    libraries.dedup();
    let pinned: Vec<&str> = libraries.into_iter().filter(|path| pin(path)).collect();
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return 0;
    };
    let mut dropped = 0;
    for range in window_library_ranges(&smaps) {
        if !pinned.contains(&range.path) {
            continue;
        }
        let Ok(now) = std::fs::read_to_string("/proc/self/maps") else {
            break;
        };
        if !still_mapped(&now, &range) {
            continue;
        }
        // SAFETY: a range of a pinned library that this process maps as it
        // did a moment ago (same file, offset and permissions): read-only,
        // holding only the file's pages, none in swap (see above), so
        // dropping them loses nothing.
        let done = unsafe {
            libc::madvise(
                range.start as *mut libc::c_void,
                range.end - range.start,
                libc::MADV_DONTNEED,
            )
        };
        if done == 0 {
            dropped += range.end - range.start;
        }
    }
    dropped
}

/// Makes sure the library at `path`, loaded already, stays loaded for the
/// life of the process. False when it is not loaded (or not a library the
/// loader knows), and then it is not touched.
#[cfg(target_os = "linux")]
fn pin(path: &str) -> bool {
    let Ok(name) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: RTLD_NOLOAD loads nothing (no initialiser runs); it returns a
    // handle to a library already loaded, and RTLD_NODELETE keeps it so.
    // The handle is never closed.
    let handle = unsafe {
        libc::dlopen(
            name.as_ptr(),
            libc::RTLD_NOLOAD | libc::RTLD_NODELETE | libc::RTLD_LAZY,
        )
    };
    !handle.is_null()
}

/// One line of `/proc/PID/maps` (the header of each mapping in `smaps`):
/// `start-end perms offset dev inode path`.
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mapping<'a> {
    start: usize,
    end: usize,
    offset: &'a str,
    device: &'a str,
    inode: &'a str,
    path: &'a str,
}

#[cfg(target_os = "linux")]
impl<'a> Mapping<'a> {
    /// The mapping a header line describes, and its permissions.
    fn of(line: &'a str) -> Option<(Mapping<'a>, &'a str)> {
        let mut rest = line;
        let mut field = || {
            let trimmed = rest.trim_start();
            let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
            let (word, after) = trimmed.split_at(end);
            rest = after;
            (!word.is_empty()).then_some(word)
        };
        let range = field()?;
        let perms = field()?;
        let offset = field()?;
        let device = field()?;
        let inode = field()?;
        let path = rest.trim();
        let (start, end) = range.split_once('-')?;
        let start = usize::from_str_radix(start, 16).ok()?;
        let end = usize::from_str_radix(end, 16).ok()?;
        (end > start && device.contains(':')).then_some((
            Mapping {
                start,
                end,
                offset,
                device,
                inode,
                path,
            },
            perms,
        ))
    }

    /// One of [`WINDOW_LIBRARIES`], as a file that is still there.
    fn is_window_library(&self) -> bool {
        let name = self.path.rsplit('/').next().unwrap_or("");
        self.path.starts_with('/')
            && !self.path.ends_with(" (deleted)")
            && WINDOW_LIBRARIES.iter().any(|lib| name.contains(lib))
    }
}

/// The mappings of [`WINDOW_LIBRARIES`] in a `/proc/PID/smaps` text that are
/// readable, not writable, and hold no anonymous page and none in swap
/// (both said, and both 0).
#[cfg(target_os = "linux")]
fn window_library_ranges<'a>(smaps: &'a str) -> Vec<Mapping<'a>> {
    let mut ranges = Vec::new();
    // The mapping being read, and what its lines said so far: whether it
    // holds no anonymous page, and none in swap.
    let mut current: Option<(Mapping<'a>, bool, bool)> = None;
    let mut finish = |current: &mut Option<(Mapping<'a>, bool, bool)>| {
        if let Some((mapping, true, true)) = current.take() {
            ranges.push(mapping);
        }
    };
    for line in smaps.lines() {
        if let Some((mapping, perms)) = Mapping::of(line) {
            finish(&mut current);
            if mapping.is_window_library() && perms.starts_with('r') && !perms.contains('w') {
                current = Some((mapping, false, false));
            }
            continue;
        }
        let Some((_, anonymous, swap)) = current.as_mut() else {
            continue;
        };
        let mut fields = line.split_whitespace();
        let (key, value) = (fields.next(), fields.next());
        match key {
            Some("Anonymous:") => *anonymous = value == Some("0"),
            Some("Swap:") => *swap = value == Some("0"),
            _ => {}
        }
    }
    finish(&mut current);
    ranges
}

/// Whether `maps` (a fresh `/proc/self/maps`) still maps `range` as it was:
/// the same addresses, file, offset and device, read-only.
#[cfg(target_os = "linux")]
fn still_mapped(maps: &str, range: &Mapping<'_>) -> bool {
    maps.lines()
        .filter_map(Mapping::of)
        .any(|(now, perms)| now == *range && perms.starts_with('r') && !perms.contains('w'))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::{
        environment_additions, gdk_gl_probe_skippable, still_mapped, window_library_ranges,
    };
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
        let mapping = |header: &str, anonymous: u32, swap: u32| {
            format!("{header}\nSize: 1024 kB\nRss: 512 kB\nAnonymous: {anonymous} kB\nSwap: {swap} kB\nVmFlags: rd mr mw me\n")
        };
        let maps: String = [
            (
                "7f0000000000-7f0000100000 r--p 00000000 fe:01 11                        /usr/lib/libwebkit2gtk-4.1.so.0",
                0,
                0,
            ),
            (
                "7f0000100000-7f0003000000 r-xp 00100000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                0,
                0,
            ),
            // RELRO: read-only now, but the loader wrote its pages.
            (
                "7f0003000000-7f0003080000 r--p 03000000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                496,
                0,
            ),
            // The same, with those pages swapped out: no anonymous page
            // resident, but the relocations are in swap.
            (
                "7f0003080000-7f0003090000 r--p 03080000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                0,
                64,
            ),
            (
                "7f0003090000-7f0003100000 rw-p 03090000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0",
                12,
                0,
            ),
            (
                "7f0004000000-7f0004800000 r-xp 00000000 fe:01 12 /usr/lib/dri/swrast_dri.so",
                0,
                0,
            ),
            // Replaced on disk by an upgrade since it was loaded.
            (
                "7f0004800000-7f0004900000 r-xp 00000000 fe:01 16 /usr/lib/libEGL_mesa.so.0.0.0 (deleted)",
                0,
                0,
            ),
            (
                "7f0005000000-7f0005800000 r-xp 00000000 fe:01 13 /usr/lib/libgtk-3.so.0",
                0,
                0,
            ),
            (
                "7f0006000000-7f0006001000 ---p 00000000 fe:01 14 /usr/lib/libLLVM-15.so.1",
                0,
                0,
            ),
            ("7f0007000000-7f0007100000 rw-p 00000000 00:00 0", 1024, 0),
            (
                "55d000000000-55d000100000 r-xp 00000000 fe:01 15 /opt/presently/presently-desktop",
                0,
                0,
            ),
        ]
        .iter()
        .map(|(header, anonymous, swap)| mapping(header, *anonymous, *swap))
        .collect();
        let ranges = window_library_ranges(&maps);
        assert_eq!(
            ranges.iter().map(|m| (m.start, m.end)).collect::<Vec<_>>(),
            [
                (0x7f00_0000_0000, 0x7f00_0010_0000),
                (0x7f00_0010_0000, 0x7f00_0300_0000),
                (0x7f00_0400_0000, 0x7f00_0480_0000),
            ]
        );
        assert_eq!(ranges[0].path, "/usr/lib/libwebkit2gtk-4.1.so.0");
        assert_eq!(
            (ranges[1].offset, ranges[1].device, ranges[1].inode),
            ("00100000", "fe:01", "11")
        );
        // A mapping whose smaps says nothing of swap is not taken on trust.
        let unsaid = "7f0000000000-7f0000100000 r--p 00000000 fe:01 11 /usr/lib/libwebkit2gtk-4.1.so.0\nAnonymous: 0 kB\n";
        assert_eq!(window_library_ranges(unsaid), []);
        assert_eq!(
            window_library_ranges("garbage\n\n1-2 r-xp\nRss: 4 kB\n"),
            []
        );
    }

    #[test]
    fn a_range_is_dropped_only_while_it_maps_the_same_file_at_the_same_place() {
        let header = "7f0004000000-7f0004800000 r-xp 00000000 fe:01 12 /usr/lib/dri/swrast_dri.so";
        let smaps = format!("{header}\nAnonymous: 0 kB\nSwap: 0 kB\n");
        let range = window_library_ranges(&smaps).remove(0);
        assert!(still_mapped(&format!("{header}\n"), &range));
        for changed in [
            // Unloaded, and something else mapped there.
            "7f0004000000-7f0004800000 r-xp 00000000 fe:01 99 /usr/lib/libother.so",
            // The same file at another offset, or another file's device.
            "7f0004000000-7f0004800000 r-xp 00001000 fe:01 12 /usr/lib/dri/swrast_dri.so",
            "7f0004000000-7f0004800000 r-xp 00000000 fe:02 12 /usr/lib/dri/swrast_dri.so",
            // Made writable, or shorter.
            "7f0004000000-7f0004800000 rw-p 00000000 fe:01 12 /usr/lib/dri/swrast_dri.so",
            "7f0004000000-7f0004400000 r-xp 00000000 fe:01 12 /usr/lib/dri/swrast_dri.so",
        ] {
            assert!(!still_mapped(&format!("{changed}\n"), &range), "{changed}");
        }
    }

    #[test]
    fn only_loaded_libraries_are_pinned() {
        // Nothing is loaded by pinning: a library not in the process is not.
        assert!(!super::pin("/nonexistent/libwebkit2gtk-nothing.so"));
        // libc is loaded in every process.
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let libc = maps
            .lines()
            .filter_map(|l| super::Mapping::of(l).map(|(m, _)| m.path))
            .find(|p| p.contains("/libc.so") || p.contains("/libc-"))
            .expect("libc is mapped");
        assert!(super::pin(libc), "{libc}");
    }
}
