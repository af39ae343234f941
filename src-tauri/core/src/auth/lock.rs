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
            crate::config::create_private_dir(dir).map_err(failed)?;
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

/// One lock file per keyring entry, where every process of this user finds
/// it: the runtime dir (Linux), else the cache dir, else the config dir.
fn lock_path(settings: &Settings) -> PathBuf {
    let dir = dirs::runtime_dir()
        .or_else(dirs::cache_dir)
        .map(|d| d.join("presently"))
        .unwrap_or_else(|| settings.config_dir.clone());
    let id = uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        settings.keyring_account().as_bytes(),
    );
    dir.join(format!("sign-in-{}.lock", id.simple()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;

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
