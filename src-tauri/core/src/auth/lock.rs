//! One process at a time reads, renews and saves a sign-in.
//!
//! The tray app and every `presently` command share one keyring entry.
//! Refresh tokens rotate: the one in the entry works exactly once. Without a
//! lock, two processes that find the access token due at the same moment
//! would both redeem the same refresh token, and Microsoft would refuse the
//! second, signing that process out. A file lock (advisory, released by the
//! OS when the process ends, however it ends) makes "read, renew, save" one
//! step across processes.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::config::Settings;
use crate::error::{Error, Result};

/// A renewal takes one token request (30 s at most) and two keyring calls:
/// waiting longer than this means something is stuck.
const WAIT_AT_MOST: Duration = Duration::from_secs(90);
const RETRY_EVERY: Duration = Duration::from_millis(20);

/// Held while it lives; dropping it releases the lock.
#[derive(Debug)]
pub(crate) struct SignInLock {
    _file: File,
}

impl SignInLock {
    /// Waits for the lock of `settings`' sign-in, off the async threads.
    pub async fn acquire(settings: &Settings) -> Result<SignInLock> {
        let settings = settings.clone();
        super::blocking(move || SignInLock::acquire_blocking(&settings)).await
    }

    /// Waits for the lock on this thread.
    pub fn acquire_blocking(settings: &Settings) -> Result<SignInLock> {
        let path = lock_path(settings);
        let failed = |e: std::io::Error| {
            Error::Storage(format!(
                "Could not use the sign-in lock file {}: {e}",
                path.display()
            ))
        };
        if let Some(dir) = path.parent() {
            crate::toml_file::create_private_dir(dir).map_err(failed)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(failed)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SignInLock { _file: file }),
                Err(TryLockError::WouldBlock) if started.elapsed() < WAIT_AT_MOST => {
                    std::thread::sleep(RETRY_EVERY)
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Storage(format!(
                        "Another Presently process has been renewing the sign-in for over {} s; try again, or end that process.",
                        WAIT_AT_MOST.as_secs()
                    )))
                }
                Err(TryLockError::Error(e)) => return Err(failed(e)),
            }
        }
    }
}

/// One lock file per keyring entry, in one place per user whatever the
/// environment: a `presently` run by cron (no `XDG_RUNTIME_DIR`), by a
/// systemd unit or from a terminal with other `XDG_*` settings must lock
/// the same file as the tray app, or both renew at once.
fn lock_path(settings: &Settings) -> PathBuf {
    let id = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        settings.keyring_account().as_bytes(),
    );
    lock_dir()
        .unwrap_or_else(|| settings.config_dir.clone())
        .join(format!("sign-in-{}.lock", id.simple()))
}

/// Windows: the local app data folder, which Windows names (not from the
/// environment). Elsewhere: the caches folder under the home directory the
/// user database gives, not `HOME` or `XDG_CACHE_HOME`.
fn lock_dir() -> Option<PathBuf> {
    #[cfg(windows)]
    let dir = dirs::data_local_dir().map(|d| d.join("Presently"));
    #[cfg(target_os = "macos")]
    let dir = account_home().map(|h| h.join("Library/Caches/presently"));
    #[cfg(all(unix, not(target_os = "macos")))]
    let dir = account_home().map(|h| h.join(".cache/presently"));
    dir
}

/// The home directory of the user this process runs as, from the user
/// database (`getpwuid_r`).
#[cfg(unix)]
fn account_home() -> Option<PathBuf> {
    use std::ffi::{CStr, OsStr};
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: `passwd` is plain data that getpwuid_r fills in; `buf` outlives
    // every pointer it leaves in it, and `found` is either null or `&passwd`.
    unsafe {
        let mut passwd: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut passwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        );
        if rc != 0 || found.is_null() || passwd.pw_dir.is_null() {
            return None;
        }
        let home = CStr::from_ptr(passwd.pw_dir).to_bytes();
        (!home.is_empty()).then(|| PathBuf::from(OsStr::from_bytes(home)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;

    /// Run as a child by the test below: prints where the lock is.
    #[test]
    fn lock_dir_probe() {
        if std::env::var_os("PRESENTLY_LOCK_PROBE").is_some() {
            println!("lock dir: {:?}", lock_dir());
        }
    }

    #[test]
    fn the_lock_is_in_one_place_whatever_the_environment() {
        let probe = |vars: &[(&str, &str)]| {
            let mut child = std::process::Command::new(std::env::current_exe().unwrap());
            child
                .args([
                    "--exact",
                    "auth::lock::tests::lock_dir_probe",
                    "--nocapture",
                ])
                .env("PRESENTLY_LOCK_PROBE", "1");
            for (k, v) in vars {
                child.env(k, v);
            }
            let out = child.output().unwrap();
            assert!(out.status.success(), "{out:?}");
            let out = String::from_utf8(out.stdout).unwrap();
            out.lines()
                .find(|l| l.starts_with("lock dir: "))
                .unwrap_or_else(|| panic!("{out}"))
                .to_owned()
        };
        let here = probe(&[]);
        assert!(here.contains("Some("), "{here}");
        // A desktop session's variables, and cron's (none of them).
        let other = tempfile::tempdir().unwrap();
        let other = other.path().to_str().unwrap();
        for vars in [
            &[
                ("XDG_RUNTIME_DIR", other),
                ("XDG_CACHE_HOME", other),
                ("HOME", other),
            ][..],
            &[
                ("XDG_RUNTIME_DIR", ""),
                ("XDG_CACHE_HOME", ""),
                ("LOCALAPPDATA", other),
            ][..],
        ] {
            assert_eq!(probe(vars), here, "{vars:?}");
        }
    }

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::resolve(&Overrides {
            config_dir: Some(dir.path().to_path_buf()),
            client_id: Some(uuid::Uuid::new_v4().to_string()),
            ..Default::default()
        })
        .unwrap();
        let held = SignInLock::acquire_blocking(&settings).unwrap();
        let path = lock_path(&settings);
        // A second open file description, as another process would have.
        let other = OpenOptions::new().write(true).open(&path).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        drop(held);
        other.try_lock().unwrap();
    }
}
