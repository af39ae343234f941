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

/// Windows Credential Manager keeps at most 2,560 bytes per credential, and
/// keyring stores a password there as UTF-16: 1,280 units. Every entry
/// Presently writes stays below that, with room to spare.
pub const MAX_ENTRY_UNITS: usize = 1_200;

/// A place that keeps one secret per account key.
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

/// How a split value begins: `presently-split:1:<generation>:<parts>` on a
/// line of its own, then the first part.
const SPLIT_TAG: &str = "presently-split:1:";

/// Stores `value` under `key`, split into entries of at most
/// [`MAX_ENTRY_UNITS`] UTF-16 units: the first under `key` itself, with a
/// header naming how many follow, the others under `key#<generation>.<n>`.
///
/// The parts are written first and the first entry last, so a reader sees
/// the old value or the new one, never a mix; the old generation's parts are
/// removed afterwards.
pub fn save_split(store: &dyn TokenStore, key: &str, value: &Secret) -> Result<()> {
    let previous = read_header(store, key)?;
    let generation = format!("{:08x}", rand::random::<u32>());
    let header_room = SPLIT_TAG.len() + generation.len() + 8;
    let parts = split_units(
        value.expose(),
        MAX_ENTRY_UNITS - header_room,
        MAX_ENTRY_UNITS,
    );
    for (n, part) in parts.iter().enumerate().skip(1) {
        store.save(&part_key(key, &generation, n), &Secret::new(*part))?;
    }
    let first = format!("{SPLIT_TAG}{generation}:{}\n{}", parts.len(), parts[0]);
    store.save(key, &Secret::new(first))?;
    if let Some((old, count)) = previous.filter(|(g, _)| *g != generation) {
        for n in 1..count {
            if let Err(e) = store.delete(&part_key(key, &old, n)) {
                tracing::warn!("an old part of the sign-in could not be removed: {e}");
            }
        }
    }
    Ok(())
}

/// Reads a value written by [`save_split`] (or a whole value written before
/// values were split).
pub fn load_split(store: &dyn TokenStore, key: &str) -> Result<Option<Secret>> {
    let Some(first) = store.load(key)? else {
        return Ok(None);
    };
    let Some((generation, count, part)) = parse_header(first.expose()) else {
        return Ok(Some(first));
    };
    let mut whole = part.to_string();
    for n in 1..count {
        let Some(next) = store.load(&part_key(key, generation, n))? else {
            return Err(Error::SignInNeeded(
                "Part of the sign-in saved in your keyring is missing. Run `presently login` to sign in again.".into(),
            ));
        };
        whole.push_str(next.expose());
    }
    Ok(Some(Secret::new(whole)))
}

/// Removes every entry of a split value. Returns whether there was one.
pub fn delete_split(store: &dyn TokenStore, key: &str) -> Result<bool> {
    let Some((generation, count)) = read_header(store, key)? else {
        let had = store.load(key)?.is_some();
        store.delete(key)?;
        return Ok(had);
    };
    for n in 1..count {
        store.delete(&part_key(key, &generation, n))?;
    }
    store.delete(key)?;
    Ok(true)
}

fn part_key(key: &str, generation: &str, n: usize) -> String {
    format!("{key}#{generation}.{n}")
}

fn read_header(store: &dyn TokenStore, key: &str) -> Result<Option<(String, usize)>> {
    Ok(store
        .load(key)?
        .and_then(|first| parse_header(first.expose()).map(|(g, count, _)| (g.to_string(), count))))
}

/// `(generation, parts, first part)` of a split value's first entry.
fn parse_header(first: &str) -> Option<(&str, usize, &str)> {
    let (header, part) = first.strip_prefix(SPLIT_TAG)?.split_once('\n')?;
    let (generation, count) = header.split_once(':')?;
    let count: usize = count.parse().ok()?;
    (1..=10_000)
        .contains(&count)
        .then_some((generation, count, part))
}

/// `text` cut at character boundaries into pieces of at most `first` UTF-16
/// units, then `rest` units each. Never empty: an empty text is one empty piece.
fn split_units(text: &str, first: usize, rest: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut units) = (0, 0);
    let mut limit = first;
    for (i, c) in text.char_indices() {
        if units + c.len_utf16() > limit {
            parts.push(&text[start..i]);
            (start, units, limit) = (i, 0, rest);
        }
        units += c.len_utf16();
    }
    parts.push(&text[start..]);
    parts
}

/// An in-memory store for tests and for the demo tenant, whose tokens are
/// worthless outside the process. `locked` makes every call fail as a locked
/// keyring would; [`MemoryStore::with_windows_limit`] refuses what Windows
/// Credential Manager would refuse.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    entries: Arc<Mutex<HashMap<String, Secret>>>,
    locked: Arc<Mutex<bool>>,
    max_units: Option<usize>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that, like Windows Credential Manager through keyring, keeps
    /// at most 1,280 UTF-16 units (2,560 bytes) per entry.
    pub fn with_windows_limit() -> Self {
        MemoryStore {
            max_units: Some(1_280),
            ..Self::default()
        }
    }

    /// Every entry, for tests that look at what was stored.
    pub fn entries(&self) -> Vec<(String, Secret)> {
        let mut all: Vec<_> = self
            .entries
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
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
        let units = value.expose().encode_utf16().count();
        if self.max_units.is_some_and(|max| units > max) {
            // What keyring reports for Windows' CRED_MAX_CREDENTIAL_BLOB_SIZE.
            return Err(Error::Keyring(format!(
                "The system keyring refused the entry: {units} characters is longer than it keeps (Windows Credential Manager: 2,560 bytes)."
            )));
        }
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

    #[test]
    fn split_values_fit_the_windows_limit_and_come_back_whole() {
        let store = MemoryStore::with_windows_limit();
        assert!(store.save("k", &Secret::new("x".repeat(1_281))).is_err());
        // Long tokens, with characters of two UTF-16 units among them.
        for value in [
            String::new(),
            "a".repeat(10),
            "é𝄞".repeat(3_000),
            "t".repeat(8_192 + 4_096 + 700),
        ] {
            save_split(&store, "k", &Secret::new(value.clone())).unwrap();
            assert_eq!(load_split(&store, "k").unwrap().unwrap().expose(), value);
            for (_, v) in store.entries() {
                assert!(v.expose().encode_utf16().count() <= MAX_ENTRY_UNITS);
            }
        }
        // Saving again leaves no parts of the old value behind.
        save_split(&store, "k", &Secret::new("y".repeat(5_000))).unwrap();
        assert_eq!(store.entries().len(), 5);
        assert!(delete_split(&store, "k").unwrap());
        assert!(store.entries().is_empty());
        assert!(!delete_split(&store, "k").unwrap());
    }

    #[test]
    fn a_split_value_with_a_part_missing_asks_to_sign_in_again() {
        let store = MemoryStore::new();
        save_split(&store, "k", &Secret::new("z".repeat(3_000))).unwrap();
        let part = store
            .entries()
            .into_iter()
            .find(|(k, _)| k != "k")
            .unwrap()
            .0;
        store.delete(&part).unwrap();
        assert_eq!(load_split(&store, "k").unwrap_err().code(), "signed_out");
    }
}
