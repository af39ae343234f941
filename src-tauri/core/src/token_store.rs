//! Where tokens live: the OS keyring (Secret Service on Linux, Keychain on
//! macOS, Credential Manager on Windows) and nowhere else.
//!
//! There is deliberately no file fallback. Keyring calls can block for a long
//! time (a locked collection waits for a password prompt that may never come),
//! so every call runs on its own thread and gives up after a timeout.

use std::collections::HashMap;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The keyring service name under which Presently's entries live.
pub const SERVICE: &str = "presently";

/// How long a keyring call may take before it counts as "locked or not answering".
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A place that keeps one secret blob per account key (cloud/tenant/client ID).
pub trait TokenStore: Send + Sync + 'static {
    fn load(&self, account: &str) -> Result<Option<Secret>>;
    fn save(&self, account: &str, value: &Secret) -> Result<()>;
    /// Removes the entry; removing one that is not there is not an error.
    fn delete(&self, account: &str) -> Result<()>;
}

/// The OS keyring.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    timeout: Duration,
}

impl KeyringStore {
    pub fn new(timeout: Duration) -> Self {
        KeyringStore { timeout }
    }

    fn call<T: Send + 'static>(
        &self,
        what: &'static str,
        account: &str,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T> {
        let account = account.to_string();
        with_timeout(self.timeout, what, move || {
            keyring::Entry::new(SERVICE, &account)
                .and_then(|e| op(&e))
                .map_err(|e| keyring_error(what, e))
        })
    }
}

/// Runs one keyring call on a thread of its own, so that a keyring that never
/// answers costs us `timeout`, not a hung app. The thread is left behind if it
/// never returns; it holds nothing but the call.
fn with_timeout<T: Send + 'static>(
    timeout: Duration,
    what: &str,
    op: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("keyring".into())
        .spawn(move || {
            let _ = tx.send(op());
        })
        .map_err(|e| Error::Keyring(format!("Could not reach the keyring: {e}")))?;
    rx.recv_timeout(timeout).unwrap_or_else(|_| {
        Err(Error::Keyring(format!(
            "The system keyring did not answer within {} s while {what}. It may be locked and waiting for a password: unlock it (for example by logging in to your desktop session) and try again.",
            timeout.as_secs()
        )))
    })
}

impl Default for KeyringStore {
    fn default() -> Self {
        KeyringStore::new(DEFAULT_TIMEOUT)
    }
}

fn keyring_error(what: &str, e: keyring::Error) -> Error {
    use keyring::Error as K;
    // keyring's own messages never carry the secret, but they can be vague;
    // say what it means for the user first.
    let msg = match &e {
        K::NoStorageAccess(inner) => format!(
            "The system keyring refused access while {what} ({inner}). It is probably locked: unlock it and try again."
        ),
        K::PlatformFailure(inner) => format!(
            "No usable system keyring while {what} ({inner}). Presently keeps sign-in tokens only in the keyring (on Linux: a Secret Service such as GNOME Keyring or KWallet, running and unlocked)."
        ),
        other => format!("The system keyring failed while {what}: {other}"),
    };
    Error::Keyring(msg)
}

impl TokenStore for KeyringStore {
    fn load(&self, account: &str) -> Result<Option<Secret>> {
        self.call("reading your sign-in", account, |entry| {
            match entry.get_password() {
                Ok(v) => Ok(Some(Secret::new(v))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn save(&self, account: &str, value: &Secret) -> Result<()> {
        let value = value.clone();
        self.call("saving your sign-in", account, move |entry| {
            entry.set_password(value.expose())
        })
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.call("removing your sign-in", account, |entry| {
            match entry.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }
}

/// An in-memory store for tests and for the demo tenant, whose tokens are
/// worthless outside the process. `locked` makes every call fail as a locked
/// keyring would.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    entries: Arc<Mutex<HashMap<String, Secret>>>,
    locked: Arc<Mutex<bool>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn set_locked(&self, locked: bool) {
        *self.locked.lock().unwrap() = locked;
    }

    fn check(&self) -> Result<()> {
        if *self.locked.lock().unwrap() {
            return Err(Error::Keyring(
                "The system keyring is locked: unlock it and try again.".into(),
            ));
        }
        Ok(())
    }
}

impl TokenStore for MemoryStore {
    fn load(&self, account: &str) -> Result<Option<Secret>> {
        self.check()?;
        Ok(self.entries.lock().unwrap().get(account).cloned())
    }

    fn save(&self, account: &str, value: &Secret) -> Result<()> {
        self.check()?;
        self.entries
            .lock()
            .unwrap()
            .insert(account.to_string(), value.clone());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<()> {
        self.check()?;
        self.entries.lock().unwrap().remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn a_keyring_that_never_answers_times_out_with_a_clear_error() {
        let started = Instant::now();
        let err = with_timeout(Duration::from_millis(200), "reading your sign-in", || {
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        })
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(err.code(), "keyring");
        assert!(err.to_string().contains("did not answer"), "{err}");
    }

    #[test]
    fn memory_store_round_trips_and_can_be_locked() {
        let store = MemoryStore::new();
        store.save("global/t/c", &Secret::new("blob")).unwrap();
        assert_eq!(store.load("global/t/c").unwrap().unwrap().expose(), "blob");
        store.set_locked(true);
        assert_eq!(store.load("global/t/c").unwrap_err().code(), "keyring");
        store.set_locked(false);
        store.delete("global/t/c").unwrap();
        store.delete("global/t/c").unwrap();
        assert!(store.load("global/t/c").unwrap().is_none());
    }
}
