//! What rests in the keyring: who signed in, the tokens, and the sign-in and
//! Graph addresses they were issued for.
//!
//! The entry's key names the cloud, tenant, client and sign-in host, so a
//! sign-in to the simulator never replaces one to Microsoft. The addresses
//! are checked again on every load: a stored sign-in is never used with
//! other hosts than its own, whatever a flag, variable or config file says.
//! The value is split across entries small enough for every platform's
//! keyring (see [`crate::token_store::save_split`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use url::Url;

use super::lock::SignInLock;
use super::{Account, TokenSet};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::token_store::{self, TokenStore};

/// What sits in the keyring for one sign-in.
#[derive(Debug, Clone)]
pub struct StoredSignIn {
    pub account: Account,
    pub tokens: TokenSet,
    /// The sign-in service the tokens came from.
    pub login_url: Url,
    /// The Graph they were issued for; the only place they are sent.
    pub graph_url: Url,
}

/// The stored value's shape. Plain strings live only as long as it takes to
/// (de)serialise; everywhere else they are `Secret`s.
#[derive(Serialize, Deserialize)]
struct Blob {
    version: u32,
    account: Account,
    login_url: String,
    graph_url: String,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: DateTime<Utc>,
    lifetime_s: u64,
    scope: String,
}

/// Version 1 kept no hosts; its entries are not read (see [`legacy_key`]).
const VERSION: u32 = 2;

impl StoredSignIn {
    /// A sign-in made with `settings`, which records their hosts.
    pub fn new(settings: &Settings, account: Account, tokens: TokenSet) -> StoredSignIn {
        StoredSignIn {
            account,
            tokens,
            login_url: settings.login_url.clone(),
            graph_url: settings.graph_url.clone(),
        }
    }

    fn to_secret(&self) -> Secret {
        let blob = Blob {
            version: VERSION,
            account: self.account.clone(),
            login_url: self.login_url.to_string(),
            graph_url: self.graph_url.to_string(),
            access_token: self.tokens.access_token.expose().to_string(),
            refresh_token: self
                .tokens
                .refresh_token
                .as_ref()
                .map(|r| r.expose().to_string()),
            expires_at: self.tokens.expires_at,
            lifetime_s: self.tokens.lifetime.as_secs(),
            scope: self.tokens.scope.clone(),
        };
        Secret::new(serde_json::to_string(&blob).expect("a Blob always serialises"))
    }

    fn from_secret(s: &Secret) -> Result<StoredSignIn> {
        let unreadable = |why: String| {
            Error::SignInNeeded(format!(
                "The sign-in saved in your keyring could not be read ({why}). Run `presently login` to sign in again."
            ))
        };
        // Only the position of a problem is reported: serde's own messages
        // can quote the value, which here is a token.
        let blob: Blob = serde_json::from_str(s.expose())
            .map_err(|e| unreadable(format!("line {}, column {}", e.line(), e.column())))?;
        if blob.version != VERSION {
            return Err(unreadable(format!("version {}", blob.version)));
        }
        let url = |raw: &str| Url::parse(raw).map_err(|_| unreadable("a stored address".into()));
        Ok(StoredSignIn {
            account: blob.account,
            login_url: url(&blob.login_url)?,
            graph_url: url(&blob.graph_url)?,
            tokens: TokenSet {
                access_token: Secret::new(blob.access_token),
                refresh_token: blob.refresh_token.map(Secret::new),
                expires_at: blob.expires_at,
                lifetime: Duration::from_secs(blob.lifetime_s),
                scope: blob.scope,
            },
        })
    }

    /// Refuses, before anything is sent, a sign-in that was issued for other
    /// hosts than `settings` name.
    pub fn check_hosts(&self, settings: &Settings) -> Result<()> {
        if same_service(&self.login_url, &settings.login_url)
            && same_service(&self.graph_url, &settings.graph_url)
        {
            return Ok(());
        }
        Err(Error::SignInNeeded(format!(
            "The stored sign-in belongs to another service: it was made at {} for {}, but Presently is now set to sign in at {} and use {}. Nothing was sent. Run `presently login` to sign in to this one.",
            self.login_url, self.graph_url, settings.login_url, settings.graph_url
        )))
    }

    /// Reads the sign-in for these settings, if there is one, holding the
    /// sign-in's lock so that a renewal in another process is not read half
    /// way. A stored sign-in for other hosts is an error (`SignInNeeded`).
    pub fn load(settings: &Settings, store: &dyn TokenStore) -> Result<Option<StoredSignIn>> {
        let _lock = SignInLock::acquire_blocking(settings)?;
        let loaded = load_unlocked(settings, store)?;
        if let Some(s) = &loaded {
            s.check_hosts(settings)?;
        }
        Ok(loaded)
    }

    /// Stores this sign-in under the key of `settings`, holding the lock.
    pub fn save(&self, settings: &Settings, store: &dyn TokenStore) -> Result<()> {
        let _lock = SignInLock::acquire_blocking(settings)?;
        save_unlocked(self, settings, store)
    }
}

fn same_service(a: &Url, b: &Url) -> bool {
    a.origin() == b.origin() && a.path().trim_end_matches('/') == b.path().trim_end_matches('/')
}

pub(super) fn load_unlocked(
    settings: &Settings,
    store: &dyn TokenStore,
) -> Result<Option<StoredSignIn>> {
    token_store::load_split(store, &settings.keyring_account())?
        .map(|s| StoredSignIn::from_secret(&s))
        .transpose()
}

pub(super) fn save_unlocked(
    stored: &StoredSignIn,
    settings: &Settings,
    store: &dyn TokenStore,
) -> Result<()> {
    token_store::save_split(store, &settings.keyring_account(), &stored.to_secret())
}

/// Removes every entry of the sign-in; the caller holds the lock.
pub(super) fn delete_unlocked(settings: &Settings, store: &dyn TokenStore) -> Result<bool> {
    let had = token_store::delete_split(store, &settings.keyring_account())?;
    // Version 1 kept one entry per cloud, tenant and client, whatever the host.
    store.delete(&legacy_key(settings))?;
    Ok(had)
}

/// The key of a version 1 entry, which recorded no hosts: logging out
/// removes it too, and it is never used for requests.
fn legacy_key(settings: &Settings) -> String {
    format!(
        "{}/{}/{}",
        settings.cloud.id(),
        settings.tenant,
        settings.client_id
    )
}

/// Removes the stored sign-in for these settings, every entry of it. Returns
/// whether there was one.
pub fn sign_out(settings: &Settings, store: &dyn TokenStore) -> Result<bool> {
    let _lock = SignInLock::acquire_blocking(settings)?;
    delete_unlocked(settings, store)
}
