//! Helpers for the end-to-end tests: run the built `presently` binary against
//! an in-process simulator, inside the private session that
//! `tests/with-session.sh` (and so `make test`) provides.
//!
//! The same tests run against the Windows build under Wine
//! (`tests/windows/run`, `make windows`): `PRESENTLY_BIN` names
//! `presently.exe` and `PRESENTLY_RUNNER` the program that runs it
//! (`tests/windows/wine`); and on Windows and macOS themselves
//! (`.github/workflows/ci.yml`). Where a test reads what the program left
//! behind (the keyring, its files, its console), these helpers read it as
//! that platform keeps it; a test of something only Linux has says so with
//! [`linux_only`].

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

pub use presently_sim::{PresenceUpdate, Sim, SimConfig};

#[path = "webdriver.rs"]
pub mod webdriver;

/// The command line under test: `$PRESENTLY_BIN`, or the workspace's debug
/// build.
pub fn presently_bin() -> PathBuf {
    built("PRESENTLY_BIN", "presently")
}

/// The program that runs the command line under test (`$PRESENTLY_RUNNER`:
/// Wine for the Windows build); none when it runs by itself.
pub fn runner() -> Option<PathBuf> {
    std::env::var_os("PRESENTLY_RUNNER")
        .filter(|r| !r.is_empty())
        .map(PathBuf::from)
}

/// The platform the command line under test is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux, in the private session of `tests/with-session.sh`.
    Linux,
    /// Windows: under Wine here, or Windows itself.
    Windows,
    MacOs,
}

pub fn platform() -> Platform {
    if presently_bin()
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("exe"))
    {
        Platform::Windows
    } else if cfg!(target_os = "macos") {
        Platform::MacOs
    } else {
        Platform::Linux
    }
}

/// Is the command line under test the Windows build?
pub fn windows() -> bool {
    platform() == Platform::Windows
}

/// Is it the Windows build, run under Wine on this Linux machine?
pub fn under_wine() -> bool {
    windows() && cfg!(unix)
}

/// For a test of something only Linux has (the Secret Service, D-Bus, the
/// desktop app under a private session): true, after saying so, when the
/// command line under test is built for another platform.
pub fn linux_only(what: &str) -> bool {
    let elsewhere = platform() != Platform::Linux;
    if elsewhere {
        eprintln!("not on {:?}: {what}", platform());
    }
    elsewhere
}

/// A command that runs `program` (a Windows program when testing the
/// Windows build) through [`runner`], if there is one.
pub fn program_command(program: &Path) -> tokio::process::Command {
    match runner() {
        Some(runner) => {
            let mut cmd = tokio::process::Command::new(runner);
            cmd.arg(program);
            cmd
        }
        None => tokio::process::Command::new(program),
    }
}

/// `path` as the program under test names it: unchanged, but for the
/// Windows build under Wine, on the drive (Z:) that holds the Unix files.
pub fn native_path(path: &Path) -> OsString {
    if under_wine() {
        let unix = path.to_string_lossy();
        assert!(unix.starts_with('/'), "an absolute path: {unix}");
        format!("Z:{}", unix.replace('/', "\\")).into()
    } else {
        path.into()
    }
}

/// The desktop app under test, `presently-desktop`: `$PRESENTLY_DESKTOP_BIN`,
/// or the workspace's debug build. `presently` starts it from beside itself.
pub fn desktop_bin() -> PathBuf {
    built("PRESENTLY_DESKTOP_BIN", "presently-desktop")
}

fn built(variable: &str, name: &str) -> PathBuf {
    let bin = std::env::var_os(variable)
        .filter(|b| !b.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/debug")
                .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
        });
    assert!(
        bin.exists(),
        "{} does not exist: build it first (`cargo build -p presently-cli -p presently-desktop`, or `make test`).",
        bin.display()
    );
    bin
}

/// A presence as Teams sets one: an availability and an activity, with no
/// message and no out-of-office note.
pub fn presence(availability: &str, activity: &str) -> PresenceUpdate {
    PresenceUpdate {
        availability: availability.into(),
        activity: activity.into(),
        ..Default::default()
    }
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Everything the desktop app has logged with `XDG_STATE_HOME` set to
/// `state`, its daily files joined; empty while it has logged nothing.
pub fn app_logs(state: &Path) -> String {
    std::fs::read_dir(state.join("presently/logs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
        .collect()
}

/// The private home of the programs under test: the throwaway HOME of the
/// private session; the Wine prefix (which holds the Windows user's folders
/// and registry) for the Windows build here; on Windows and macOS
/// themselves, where the workflow says (`PRESENTLY_TEST_HOME`).
pub fn session_home() -> PathBuf {
    if under_wine() {
        return PathBuf::from(std::env::var_os("WINEPREFIX").expect("set by tests/windows/run"));
    }
    if platform() != Platform::Linux {
        return PathBuf::from(
            std::env::var_os("PRESENTLY_TEST_HOME").expect("set by the workflow"),
        );
    }
    assert!(
        std::env::var_os("PRESENTLY_IN_SESSION").is_some(),
        "end-to-end tests run inside a private D-Bus/keyring session: use `make test` or `tests/with-session.sh cargo test`"
    );
    PathBuf::from(std::env::var("PRESENTLY_TEST_HOME").expect("set by with-session.sh"))
}

/// A simulator plus a config dir and an app registration of the test's own,
/// so that tests running in parallel never share a keyring entry.
pub struct TestEnv {
    pub sim: Sim,
    pub config_dir: tempfile::TempDir,
    pub client_id: String,
}

impl TestEnv {
    pub async fn new(config: SimConfig) -> TestEnv {
        session_home();
        TestEnv {
            sim: Sim::start(config).await.expect("simulator starts"),
            config_dir: tempfile::tempdir().unwrap(),
            client_id: random_guid(),
        }
    }

    /// A simulator config quick enough for tests: 1 s polling, no presence
    /// changes of its own.
    pub fn quick() -> SimConfig {
        SimConfig {
            poll_interval: Duration::from_secs(1),
            auto_presence: false,
            ..Default::default()
        }
    }

    /// `presently ARGS` aimed at this test's simulator through the
    /// environment variables a user would set.
    pub fn command(&self, args: &[&str]) -> tokio::process::Command {
        self.aimed(program_command(&presently_bin()), args)
    }

    /// `presently ARGS` as [`TestEnv::command`] starts it, with its console
    /// in the test's hands: [`Interruptible::ctrl_c`] presses Ctrl-C there.
    pub fn interruptible(&self, args: &[&str]) -> Interruptible {
        if !windows() {
            return Interruptible {
                child: self.command(args).spawn().expect("presently runs"),
                keyboard: None,
            };
        }
        // ctrl-c.exe runs presently.exe in a console of its own and sends
        // the console's Ctrl-C event when it reads a line.
        let mut cmd = program_command(&presently_bin().with_file_name("ctrl-c.exe"));
        cmd.arg(native_path(&presently_bin()));
        let mut child = self
            .aimed(cmd, args)
            .stdin(Stdio::piped())
            .spawn()
            .expect("ctrl-c.exe runs");
        Interruptible {
            keyboard: child.stdin.take(),
            child,
        }
    }

    /// `cmd ARGS`, aimed at this test's simulator, config dir and app
    /// registration through the environment variables a user would set.
    fn aimed(&self, mut cmd: tokio::process::Command, args: &[&str]) -> tokio::process::Command {
        for (k, _) in std::env::vars() {
            if k.starts_with("PRESENTLY_") && k != "PRESENTLY_IN_SESSION" {
                cmd.env_remove(k);
            }
        }
        cmd.args(args)
            .env("PRESENTLY_LOGIN_URL", self.sim.url())
            .env("PRESENTLY_GRAPH_URL", self.sim.url())
            .env("PRESENTLY_CONFIG_DIR", native_path(self.config_dir.path()))
            .env("PRESENTLY_CLIENT_ID", &self.client_id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        Run::of(self.command(args)).await
    }

    /// `presently login --no-browser`, approving the code it shows as
    /// `approve` does (approve, decline, ...).
    pub async fn login_with(&self, approve: impl FnOnce(&Sim, &str)) -> Run {
        self.login_args_with(&["login", "--no-browser"], approve)
            .await
    }

    /// `presently ARGS` (a login), approving its code as `approve` does.
    pub async fn login_args_with(&self, args: &[&str], approve: impl FnOnce(&Sim, &str)) -> Run {
        answer_login(self.command(args), &self.sim, approve).await
    }

    /// `presently login --no-browser` in `session`'s keyring, approved.
    pub async fn login_in(&self, session: &PrivateSession) {
        let mut login = self.command(&["login", "--no-browser"]);
        session.apply(&mut login);
        let run = answer_login(login, &self.sim, approve).await;
        assert_eq!(run.code, 0, "login failed: {}", run.stderr);
    }

    /// `presently login --no-browser`, approved: signed in as the first user.
    pub async fn login(&self) -> Run {
        self.login_args(&["login", "--no-browser"]).await
    }

    /// `presently ARGS` (a login by code), approved: signed in as the first
    /// user.
    pub async fn login_args(&self, args: &[&str]) -> Run {
        let run = self.login_args_with(args, approve).await;
        assert_eq!(run.code, 0, "login failed: {}", run.stderr);
        run
    }

    /// The keyring entry name for this test's sign-in: cloud, tenant,
    /// client and the sign-in host.
    pub fn keyring_account(&self) -> String {
        let host = self.sim.url();
        let host = host.split("://").nth(1).unwrap_or(&host);
        format!("global/organizations/{}@{host}", self.client_id)
    }

    /// The sign-in this test stored, joined back from its keyring entries,
    /// with the entries themselves: `(value, [(key, entry)])`.
    pub fn keyring_sign_in(&self) -> Option<(serde_json::Value, Vec<(String, String)>)> {
        let key = self.keyring_account();
        let first = keyring_lookup(&key)?;
        let (header, part) = first
            .strip_prefix("presently-split:1:")
            .and_then(|rest| rest.split_once('\n'))
            .expect("a split entry");
        let (generation, count) = header.split_once(':').unwrap();
        let count: usize = count.parse().unwrap();
        let mut whole = part.to_string();
        let mut entries = vec![(key.clone(), first.clone())];
        for n in 1..count {
            let part_key = format!("{key}#{generation}.{n}");
            let part = keyring_lookup(&part_key).expect("every part is there");
            whole.push_str(&part);
            entries.push((part_key, part));
        }
        Some((serde_json::from_str(&whole).unwrap(), entries))
    }

    /// On Windows, this test's sign-in as Credential Manager lists it: every
    /// entry, each checked to be one Windows itself would take.
    pub fn windows_entries(&self) -> Vec<WindowsCredential> {
        let key = self.keyring_account();
        let entries: Vec<WindowsCredential> = windows_credentials()
            .into_iter()
            .filter(|c| {
                c.target == format!("{key}.presently") || c.target.starts_with(&format!("{key}#"))
            })
            .collect();
        for entry in &entries {
            assert!(
                entry.blob_bytes <= WINDOWS_MAX_BLOB_BYTES,
                "{} holds {} bytes: Windows refuses more than {WINDOWS_MAX_BLOB_BYTES}",
                entry.target,
                entry.blob_bytes
            );
        }
        entries
    }

    /// `presently login` in the browser, approved: the "browser" is `curl`,
    /// which follows the simulator's redirect back to Presently's loopback
    /// port, as a browser does once the person has signed in.
    pub async fn browser_login(&self) -> Run {
        self.sim.set_auto_approve(true);
        let mut cmd = self.command(&["login"]);
        cmd.env("BROWSER", curl_browser(None));
        let run = Run::of(cmd).await;
        assert_eq!(run.code, 0, "login failed: {}", run.stderr);
        run
    }
}

/// Runs `login`, a `presently login` by device code against `sim`, and
/// answers the code it asks for as `approve` does (approve, decline, ...).
pub async fn answer_login(
    mut login: tokio::process::Command,
    sim: &Sim,
    approve: impl FnOnce(&Sim, &str),
) -> Run {
    let child = login.spawn().expect("presently runs");
    let code = pending_code(sim).await;
    approve(sim, &code);
    Run::wait(child).await
}

/// Approves `code` as the person who signs in, `sim`'s first user.
pub fn approve(sim: &Sim, code: &str) {
    sim.approve(code, None).unwrap();
}

/// The device code someone asked `sim` for, once there is one.
pub async fn pending_code(sim: &Sim) -> String {
    for _ in 0..400 {
        if let Some(code) = sim.pending_codes().into_iter().next() {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("presently never asked for a device code");
}

/// A `BROWSER` value that fetches the page and follows its redirects,
/// trusting `ca` (a PEM file) when given. The Windows build under Wine
/// starts Linux's curl too, named by its path on the Z: drive; Windows has
/// a curl of its own.
pub fn curl_browser(ca: Option<&Path>) -> String {
    let (curl, nowhere) = match (under_wine(), windows()) {
        (true, _) => (r"Z:\usr\bin\curl", "/dev/null"),
        (false, true) => ("curl", "NUL"),
        (false, false) => ("curl", "/dev/null"),
    };
    match ca {
        Some(ca) => format!(
            "{curl} -sfL --max-time 30 --cacert {} -o {nowhere}",
            ca.display()
        ),
        None => format!("{curl} -sfL --max-time 30 -o {nowhere}"),
    }
}

pub fn random_guid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A `presently` running in a console the test presses keys in.
pub struct Interruptible {
    pub child: tokio::process::Child,
    keyboard: Option<tokio::process::ChildStdin>,
}

impl Interruptible {
    /// Ctrl-C, as a person presses it in the terminal: SIGINT on Linux, the
    /// console's CTRL_C_EVENT (`GenerateConsoleCtrlEvent`) on Windows.
    pub async fn ctrl_c(&mut self) {
        match &mut self.keyboard {
            Some(keyboard) => {
                use tokio::io::AsyncWriteExt;
                keyboard.write_all(b"\n").await.unwrap();
                keyboard.flush().await.unwrap();
            }
            None => {
                let pid = self.child.id().expect("still running");
                let sent = std::process::Command::new("kill")
                    .args(["-INT", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(sent.success());
            }
        }
    }
}

/// What a finished command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

impl Run {
    pub async fn of(mut cmd: tokio::process::Command) -> Run {
        Run::wait(cmd.spawn().expect("presently runs")).await
    }

    pub async fn wait(child: tokio::process::Child) -> Run {
        let started = std::time::Instant::now();
        let out: Output = tokio::time::timeout(Duration::from_secs(90), child.wait_with_output())
            .await
            .expect("presently finished within 90 s")
            .expect("presently ran");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took: started.elapsed(),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

/// What the keyring holds for an entry of Presently's: the Secret Service's
/// (`secret-tool lookup`), or the Credential Manager's, read through the
/// Windows API.
pub fn keyring_lookup(account: &str) -> Option<String> {
    let out = match platform() {
        Platform::Windows => windows_tool("wincred.exe")
            .args(["read", &format!("{account}.presently")])
            .output()
            .expect("wincred.exe runs"),
        Platform::MacOs => panic!("{KEYCHAIN}"),
        Platform::Linux => std::process::Command::new("secret-tool")
            .args(["lookup", "service", "presently", "username", account])
            .output()
            .expect("secret-tool is installed (libsecret-tools)"),
    };
    // Both say "not there" with exit code 1.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "reading the keyring: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Why no test reads or writes the macOS Keychain behind Presently's back.
const KEYCHAIN: &str = "the Keychain asks the person before one program reads another's item, \
    so the macOS workflow leaves out the tests that look into it";

/// Puts `secret` in Windows' Credential Manager for `account` as Presently
/// would: what a person types at a prompt, where there is no console to
/// type in (under Wine). On Linux the tests type it.
pub fn keyring_store(account: &str, secret: &str) {
    assert!(windows(), "Windows only: {KEYCHAIN}");
    let status = windows_tool("wincred.exe")
        .args(["write", &format!("{account}.presently"), account, secret])
        .status()
        .expect("wincred.exe runs");
    assert!(status.success(), "storing {account}");
}

/// A generic credential in Windows' Credential Manager, as its API lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowsCredential {
    pub target: String,
    pub user: String,
    /// The size of the secret: Windows takes at most
    /// [`WINDOWS_MAX_BLOB_BYTES`]; Wine takes more, so the tests check.
    pub blob_bytes: usize,
}

/// `CRED_MAX_CREDENTIAL_BLOB_SIZE`: 5 * 512 bytes.
pub const WINDOWS_MAX_BLOB_BYTES: usize = 2_560;

/// Every generic credential in the Wine prefix's Credential Manager
/// (`CredEnumerateW`).
pub fn windows_credentials() -> Vec<WindowsCredential> {
    let out = windows_tool("wincred.exe")
        .arg("list")
        .output()
        .expect("wincred.exe runs");
    assert!(
        out.status.success(),
        "wincred list: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 4, "{line:?}");
            WindowsCredential {
                target: fields[0].to_string(),
                user: fields[1].to_string(),
                blob_bytes: fields[2].parse().unwrap(),
            }
        })
        .collect()
}

/// One of the test programs `tests/windows/run` (or the workflow) builds
/// beside `presently.exe` (`wincred.exe`, `ctrl-c.exe`), run the same way.
pub fn windows_tool(name: &str) -> std::process::Command {
    let tool = presently_bin().with_file_name(name);
    assert!(
        tool.exists(),
        "{} (built by tests/windows/run)",
        tool.display()
    );
    match runner() {
        Some(runner) => {
            let mut cmd = std::process::Command::new(runner);
            cmd.arg(tool);
            cmd
        }
        None => std::process::Command::new(tool),
    }
}

/// Every file below `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                if let Ok(bytes) = std::fs::read(&path) {
                    if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        found.push(path);
                    }
                }
            }
        }
    }
    found
}

/// A D-Bus session of a test's own, with an unlocked keyring and, on request,
/// a mock notification daemon: what the desktop app talks to, kept apart
/// from every other test. Everything it started stops when it is dropped.
pub struct PrivateSession {
    pub address: String,
    pub home: tempfile::TempDir,
    children: Vec<std::process::Child>,
    keyring_pid: Option<i32>,
}

impl PrivateSession {
    pub fn start() -> PrivateSession {
        let mut session = PrivateSession::without_keyring();
        session.start_keyring();
        session
    }

    /// A session whose bus has no Secret Service: as on a desktop where the
    /// keyring is missing.
    pub fn without_keyring() -> PrivateSession {
        use std::io::BufRead;
        let home = tempfile::tempdir().unwrap();
        for dir in ["run", "data", "config", "cache"] {
            std::fs::create_dir_all(home.path().join(dir)).unwrap();
        }
        let mut daemon = std::process::Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (dbus-x11 / dbus)");
        let mut line = String::new();
        std::io::BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        PrivateSession {
            address: line.trim().to_string(),
            home,
            children: vec![daemon],
            keyring_pid: None,
        }
    }

    fn start_keyring(&mut self) {
        let mut keyring = std::process::Command::new("gnome-keyring-daemon");
        keyring
            .args(["--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        self.apply_std(&mut keyring);
        let mut child = keyring.spawn().expect("gnome-keyring-daemon runs");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"private-session").unwrap();
        }
        let out = child.wait_with_output().unwrap();
        self.keyring_pid = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("GNOME_KEYRING_PID="))
            .and_then(|p| p.trim().parse().ok());
    }

    fn vars(&self) -> Vec<(&'static str, std::ffi::OsString)> {
        let h = self.home.path();
        vec![
            ("DBUS_SESSION_BUS_ADDRESS", self.address.clone().into()),
            ("HOME", h.into()),
            ("XDG_RUNTIME_DIR", h.join("run").into()),
            ("XDG_DATA_HOME", h.join("data").into()),
            ("XDG_CONFIG_HOME", h.join("config").into()),
            ("XDG_CACHE_HOME", h.join("cache").into()),
        ]
    }

    fn apply_std(&self, cmd: &mut std::process::Command) {
        for (k, v) in self.vars() {
            cmd.env(k, v);
        }
    }

    /// Points a command at this session's bus, keyring and HOME.
    pub fn apply(&self, cmd: &mut tokio::process::Command) {
        for (k, v) in self.vars() {
            cmd.env(k, v);
        }
    }

    /// Starts python-dbusmock's notification daemon, logging every call to
    /// `log`, and waits until it owns its name on the bus.
    pub fn notification_daemon(&mut self, log: &Path) {
        let mut cmd = std::process::Command::new("/usr/bin/python3");
        cmd.args([
            "-m",
            "dbusmock",
            "--session",
            "--template",
            "notification_daemon",
            "--logfile",
        ])
        .arg(log)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        self.apply_std(&mut cmd);
        self.children
            .push(cmd.spawn().expect("python3-dbusmock is installed"));
        for _ in 0..200 {
            if self.name_has_owner("org.freedesktop.Notifications") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the mock notification daemon did not appear on the bus");
    }
}

impl PrivateSession {
    /// Is `name` owned by someone on this session's bus?
    pub fn name_has_owner(&self, name: &str) -> bool {
        let mut ask = std::process::Command::new("dbus-send");
        ask.args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
        ])
        .arg(format!("string:{name}"));
        self.apply_std(&mut ask);
        ask.output()
            .map(|out| String::from_utf8_lossy(&out.stdout).contains("boolean true"))
            .unwrap_or(false)
    }
}

impl Drop for PrivateSession {
    fn drop(&mut self) {
        if let Some(pid) = self.keyring_pid {
            let _ = std::process::Command::new("kill")
                .arg(pid.to_string())
                .status();
        }
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits for `done`, checking every 100 ms, for at most `limit`.
pub async fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The desktop around the tray app, played by `tests/tray_host.py`: a
/// StatusNotifierWatcher, and a panel reading the tray item and its menu.
fn tray_host() -> std::process::Command {
    let mut cmd = std::process::Command::new("/usr/bin/python3");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tray_host.py"));
    cmd
}

/// One entry of the tray's menu, as a panel reads it over D-Bus
/// (`com.canonical.dbusmenu`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuEntry {
    pub id: i64,
    /// Empty for a separator.
    pub label: String,
    pub enabled: bool,
    pub visible: bool,
    pub separator: bool,
    /// The label of the submenu it is in; none at the top level.
    pub parent: Option<String>,
}

/// The tray icon's picture, RGBA.
#[derive(Debug, Clone)]
pub struct TrayIcon {
    /// What the item advertises as `IconName`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

impl TrayIcon {
    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.width + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }

    /// The colour a person sees: the most common fully opaque one.
    pub fn main_colour(&self) -> Option<[u8; 3]> {
        let mut counts = std::collections::HashMap::<[u8; 3], usize>::new();
        for p in self.rgba.chunks_exact(4).filter(|p| p[3] == 255) {
            *counts.entry([p[0], p[1], p[2]]).or_default() += 1;
        }
        counts.into_iter().max_by_key(|&(_, n)| n).map(|(c, _)| c)
    }
}

impl PrivateSession {
    /// Starts a StatusNotifierWatcher, as a desktop's panel runs, and waits
    /// until it owns its name: an app started afterwards sees a tray.
    pub fn status_notifier_watcher(&mut self) {
        let mut cmd = tray_host();
        cmd.arg("watcher")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.apply_std(&mut cmd);
        self.children
            .push(cmd.spawn().expect("/usr/bin/python3 with python3-gi runs"));
        for _ in 0..200 {
            if self.name_has_owner("org.kde.StatusNotifierWatcher") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the StatusNotifierWatcher did not appear on the bus");
    }

    /// `tray_host.py ARGS` in this session; its JSON answer, or `None` when
    /// it could not answer (no tray item yet, or it went away).
    fn ask_tray_host(&self, args: &[&str]) -> Option<serde_json::Value> {
        let mut cmd = tray_host();
        cmd.args(args);
        self.apply_std(&mut cmd);
        let out = cmd.output().expect("/usr/bin/python3 runs");
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    /// The properties of the tray item registered with the watcher
    /// (`org.kde.StatusNotifierItem`: `Status`, `IconName`, `Menu`, ...).
    pub fn tray_item(&self) -> Option<serde_json::Value> {
        self.ask_tray_host(&["item"])
            .map(|item| item["properties"].clone())
    }

    /// The top level of the tray item's menu: `GetLayout(0, -1, [])` on the
    /// object its `Menu` property names.
    pub fn tray_menu(&self) -> Option<Vec<MenuEntry>> {
        let mut all = self.tray_menu_entries()?;
        all.retain(|e| e.parent.is_none());
        Some(all)
    }

    /// The entries of the submenu labelled `label`.
    pub fn tray_submenu(&self, label: &str) -> Option<Vec<MenuEntry>> {
        let mut all = self.tray_menu_entries()?;
        all.retain(|e| e.parent.as_deref() == Some(label));
        Some(all)
    }

    /// Every entry of the menu, submenus' too.
    fn tray_menu_entries(&self) -> Option<Vec<MenuEntry>> {
        let menu = self.ask_tray_host(&["menu"])?;
        let entries = menu["entries"].as_array()?;
        Some(
            entries
                .iter()
                .map(|e| MenuEntry {
                    id: e["id"].as_i64().unwrap(),
                    label: e["label"].as_str().unwrap_or_default().to_string(),
                    enabled: e["enabled"].as_bool().unwrap_or(true),
                    visible: e["visible"].as_bool().unwrap_or(true),
                    separator: e["type"] == "separator",
                    parent: e["parent"].as_str().map(str::to_string),
                })
                .collect(),
        )
    }

    /// Clicks the menu entry labelled `label`, at the top level or in a
    /// submenu, as a panel does (`Event(id, "clicked", ...)`).
    pub fn tray_click(&self, label: &str) {
        let menu = self.tray_menu_entries().expect("the tray has a menu");
        let entry = menu
            .iter()
            .find(|e| e.label == label)
            .unwrap_or_else(|| panic!("no {label:?} in the tray menu: {menu:?}"));
        let mut cmd = tray_host();
        cmd.args(["click", &entry.id.to_string()]);
        self.apply_std(&mut cmd);
        let out = cmd.output().expect("/usr/bin/python3 runs");
        assert!(
            out.status.success(),
            "clicking {label:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The tray icon's picture: the file its `IconName` names.
    pub fn tray_icon(&self) -> Option<TrayIcon> {
        let icon = self.ask_tray_host(&["icon"])?;
        let hex = icon["rgba"].as_str()?;
        let rgba = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        Some(TrayIcon {
            name: icon["name"].as_str()?.to_string(),
            width: icon["width"].as_u64()? as u32,
            height: icon["height"].as_u64()? as u32,
            rgba,
        })
    }
}

/// Is a window of process `pid` titled `title` shown (mapped and viewable)
/// on the X display?
pub fn window_shown(pid: u32, title: &str) -> bool {
    let out = tray_host()
        .args(["windows", &pid.to_string()])
        .output()
        .expect("/usr/bin/python3 runs");
    assert!(
        out.status.success(),
        "listing windows: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let windows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    windows
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["name"] == title && w["viewable"] == true)
}

/// Presses the close button of process `pid`'s "Presently" window: sends it
/// `WM_DELETE_WINDOW`, as a window manager does.
pub fn close_window(pid: u32) {
    let out = tray_host()
        .args(["close", &pid.to_string()])
        .output()
        .expect("/usr/bin/python3 runs");
    assert!(
        out.status.success(),
        "closing the window: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// How long [`Broker`] waits for mosquitto and for a retained message: a
/// bound that ends a broken test, not a measure of speed.
const BROKER_PATIENCE: Duration = Duration::from_secs(60);

/// A mosquitto broker on 127.0.0.1:`port`, stopped when dropped. Retained
/// messages are not persisted: after a restart the broker holds only what
/// clients publish again.
pub struct Broker {
    child: tokio::process::Child,
    port: u16,
    /// The one user allowed in, when anonymous clients are not.
    login: Option<(String, String)>,
}

impl Broker {
    pub async fn start(dir: &Path, port: u16) -> Broker {
        Broker::start_with(dir, port, None).await
    }

    pub async fn start_with(dir: &Path, port: u16, login: Option<(&str, &str)>) -> Broker {
        let mut conf = format!("listener {port} 127.0.0.1\npersistence false\n");
        match login {
            None => conf.push_str("allow_anonymous true\n"),
            Some((user, password)) => {
                let file = dir.join("passwords");
                let made = std::process::Command::new("mosquitto_passwd")
                    .args(["-b", "-c"])
                    .arg(&file)
                    .args([user, password])
                    .status()
                    .expect("mosquitto_passwd is installed (make deps)");
                assert!(made.success());
                conf.push_str(&format!(
                    "allow_anonymous false\npassword_file {}\n",
                    file.display()
                ));
            }
        }
        let path = dir.join("mosquitto.conf");
        std::fs::write(&path, conf).unwrap();
        let child = tokio::process::Command::new("mosquitto")
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("mosquitto is installed (make deps)");
        let started = std::time::Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < BROKER_PATIENCE,
                "mosquitto did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Broker {
            child,
            port,
            login: login.map(|(u, p)| (u.to_string(), p.to_string())),
        }
    }

    pub async fn stop(mut self) {
        self.child.kill().await.unwrap();
    }

    /// The retained message on `topic`, if the broker holds one: a fresh
    /// subscriber gets it at once, so a second is plenty.
    pub async fn retained(&self, topic: &str) -> Option<String> {
        let mut sub = tokio::process::Command::new("mosquitto_sub");
        sub.args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-t", topic])
            .args(["-C", "1", "-W", "1", "--retained-only"])
            .kill_on_drop(true);
        if let Some((user, password)) = &self.login {
            sub.args(["-u", user, "-P", password]);
        }
        let out = sub
            .output()
            .await
            .expect("mosquitto_sub is installed (make deps)");
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    }

    /// Waits until `topic` holds a JSON message that `wanted` accepts.
    pub async fn retained_json(
        &self,
        topic: &str,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let started = std::time::Instant::now();
        let mut last = None;
        while started.elapsed() < BROKER_PATIENCE {
            if let Some(text) = self.retained(topic).await {
                let v: serde_json::Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{topic} holds no JSON ({e}): {text}"));
                if wanted(&v) {
                    return v;
                }
                last = Some(v);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{topic} never held the message wanted; last: {last:?}");
    }
}

/// A running program's output (stdout or stderr), read a line at a time
/// with bounded waits, and every line kept for the failure message.
pub struct OutputLines {
    reader: tokio::io::BufReader<Box<dyn tokio::io::AsyncRead + Unpin + Send>>,
    /// What has come of a line that has not ended yet: kept when a wait
    /// runs out, so that nothing is lost.
    partial: Vec<u8>,
    /// Everything read so far, as written.
    written: Vec<u8>,
    /// Every line read so far, in order.
    pub seen: Vec<String>,
}

impl OutputLines {
    /// The child's stdout (it must have been piped).
    pub fn stdout(child: &mut tokio::process::Child) -> OutputLines {
        OutputLines::of(Box::new(child.stdout.take().expect("stdout is piped")))
    }

    /// The child's stderr (it must have been piped).
    pub fn stderr(child: &mut tokio::process::Child) -> OutputLines {
        OutputLines::of(Box::new(child.stderr.take().expect("stderr is piped")))
    }

    fn of(stream: Box<dyn tokio::io::AsyncRead + Unpin + Send>) -> OutputLines {
        OutputLines {
            reader: tokio::io::BufReader::new(stream),
            partial: Vec::new(),
            written: Vec::new(),
            seen: Vec::new(),
        }
    }

    /// The next line, or `None` when `limit` passes first. The program
    /// ending before it is a failure.
    pub async fn next_within(&mut self, limit: Duration) -> Option<String> {
        use tokio::io::AsyncBufReadExt;
        tokio::time::timeout(limit, self.reader.read_until(b'\n', &mut self.partial))
            .await
            .ok()?
            .unwrap();
        if self.partial.is_empty() {
            panic!("the program ended early; it wrote: {:#?}", self.seen);
        }
        let raw = std::mem::take(&mut self.partial);
        self.written.extend_from_slice(&raw);
        let text = String::from_utf8(raw).expect("the program writes UTF-8");
        let line = text
            .strip_suffix('\n')
            .map_or(&*text, |l| l.strip_suffix('\r').unwrap_or(l))
            .to_string();
        self.seen.push(line.clone());
        Some(line)
    }

    /// Everything the program wrote, once it has ended: what was read
    /// before and the rest, exactly as written (the last line's ending, or
    /// its lack, too).
    pub async fn to_end(&mut self) -> String {
        use tokio::io::AsyncReadExt;
        self.written.append(&mut self.partial);
        self.reader.read_to_end(&mut self.written).await.unwrap();
        String::from_utf8(self.written.clone()).expect("the program writes UTF-8")
    }

    /// Reads lines until one satisfies `wanted`, for at most `limit`.
    pub async fn text_until(&mut self, limit: Duration, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_within(left).await {
                Some(line) if wanted(&line) => return line,
                Some(_) => {}
                None => panic!("no such line within {limit:?}; read: {:#?}", self.seen),
            }
        }
    }

    /// The lines read so far, as JSON (a line that is not JSON fails).
    pub fn seen_json(&self) -> Vec<serde_json::Value> {
        self.seen
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }

    /// The next JSON line, or `None` when `limit` passes first.
    pub async fn json_within(&mut self, limit: Duration) -> Option<serde_json::Value> {
        let line = self.next_within(limit).await?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
    }

    /// Reads JSON lines until one satisfies `wanted`, for at most `limit`.
    pub async fn json_until(
        &mut self,
        limit: Duration,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.json_within(left).await {
                Some(v) if wanted(&v) => return v,
                Some(_) => {}
                None => panic!("no such line within {limit:?}; read: {:#?}", self.seen),
            }
        }
    }

    /// Every JSON line that comes within `limit`.
    pub async fn json_for_a_while(&mut self, limit: Duration) -> Vec<serde_json::Value> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return got;
            }
            match self.json_within(left).await {
                Some(v) => got.push(v),
                None => return got,
            }
        }
    }
}
