//! Sign-in, on the `oauth2` crate: the authorization code grant with PKCE in
//! the system browser (the default), the device authorization grant (a code
//! to type, for machines without a browser), and silent refresh with
//! rotating refresh tokens.
//!
//! The map:
//! - [`SignInFlow`] runs one sign-in: [`browser`] (a loopback redirect on a
//!   free port) or [`device`] (RFC 8628), then [`SignInFlow::complete`]
//!   learns who signed in and stores it.
//! - [`oauth`] is the protocol seam: the crate's client over Presently's own
//!   HTTP client, Microsoft's error answers, and server values bounded.
//! - [`stored`] is what rests in the keyring ([`StoredSignIn`]): split
//!   across entries that fit every platform's keyring, keyed and checked by
//!   the hosts the tokens were issued for.
//! - [`lock`] is the file lock that lets one process at a time read, renew
//!   and save the shared sign-in, so that no refresh token is spent twice.
//! - [`Session`] hands out access tokens afterwards and renews them.
//! - [`app`] is the other way in, for a relay: the app signs in as itself
//!   (client credentials, with a certificate or a secret) and
//!   [`AppTokens`] hands out its tokens, asked for again before they end.
//!
//! Tokens travel only as [`Secret`]s and rest only in a [`TokenStore`].

pub mod app;
mod browser;
mod device;
mod lock;
mod oauth;
mod stored;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::cloud::Cloud;
use crate::config::{Settings, GROUP_SCOPE};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::token_store::TokenStore;

pub use app::{AppCertificate, AppCredential, AppTokens};
pub use browser::{BrowserAnswer, BrowserSignIn, BROWSER_TIMEOUT};
pub use device::DeviceCode;
pub use oauth::Refusal;
pub use stored::{sign_out, StoredSignIn};

/// Something that hands out a valid access token for Microsoft Graph.
///
/// The Graph client asks for a token before each request, and calls
/// [`AccessTokens::token_rejected`] once when Graph answers 401, to get a fresh
/// one (or learn that the user has to sign in again: `Error::SignInNeeded`).
pub trait AccessTokens: Send + Sync + 'static {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>>;
    fn token_rejected(&self) -> BoxFuture<'_, Result<Secret>>;
    /// The Graph the tokens were issued for, if they belong to one: the
    /// client refuses to send them anywhere else.
    fn issued_for(&self) -> Option<&url::Url> {
        None
    }
}

/// Asked for the first time someone sets their own status (incremental
/// consent): writing one's presence and status message. Users may consent
/// to it themselves.
pub const PRESENCE_WRITE_SCOPE: &str = "Presence.ReadWrite";

/// Asked for when "when they will be free" is turned on (incremental
/// consent): free/busy and working hours of the roster's calendars, the
/// least privileged permission `getSchedule` takes.
pub const CALENDAR_SCOPE: &str = "Calendars.ReadBasic";

/// True when `granted`, the `scope` of a token answer, holds `permission`.
/// Entra writes Graph's permissions by their short names, other clouds'
/// Graph sometimes as full URIs (`https://graph.microsoft.us/...`): the
/// last segment counts, in any case, and `Presence.ReadWrite.All` is not
/// `Presence.ReadWrite`.
pub fn grants(granted: &str, permission: &str) -> bool {
    granted
        .split_whitespace()
        .map(|s| s.rsplit('/').next().unwrap_or(s))
        .any(|s| s.eq_ignore_ascii_case(permission))
}

/// The permissions beyond [`crate::config::SCOPES`] that a sign-in asked
/// for and got: a renewal, or a new sign-in for one more, asks for them again
/// so that none is lost on the way.
fn extras_granted(granted: &str) -> Vec<&'static str> {
    [GROUP_SCOPE, PRESENCE_WRITE_SCOPE, CALENDAR_SCOPE]
        .into_iter()
        .filter(|p| grants(granted, p))
        .collect()
}

/// Refresh this long before the access token expires (less for short-lived
/// tokens, see [`TokenSet::refresh_due`]).
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Who is signed in, and where. Nothing in here is secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The user's object ID in the directory.
    pub id: String,
    pub display_name: String,
    /// User principal name (sign-in name), e.g. megan@contoso.com.
    pub username: String,
    pub cloud: Cloud,
    pub tenant: String,
    pub client_id: String,
    pub signed_in_at: DateTime<Utc>,
    /// The directory (tenant) ID the sign-in landed in, from the access
    /// token's `tid` claim when the token is a JWT (Graph's are); none
    /// otherwise, and for sign-ins stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
}

impl Account {
    /// Debra Berger of `organizations` in the global cloud, for tests.
    #[cfg(test)]
    pub(crate) fn debra() -> Account {
        Account {
            id: "me".into(),
            display_name: "Debra Berger".into(),
            username: "debra@contoso.com".into(),
            cloud: Default::default(),
            tenant: "organizations".into(),
            client_id: "client".into(),
            signed_in_at: Utc::now(),
            tenant_id: None,
        }
    }

    /// The tenant to name in MQTT topics and published JSON: its directory
    /// ID when known, which is the same for everyone in it whatever each
    /// configured (`organizations`, a domain, the ID); else the tenant as
    /// configured.
    pub fn tenant_key(&self) -> &str {
        self.tenant_id.as_deref().unwrap_or(&self.tenant)
    }
}

/// What stands between the signed-in user and a feature that needs one
/// more permission (incremental consent).
pub enum Access {
    /// The stored sign-in has it.
    Ready(Arc<Session>),
    /// It has not yet: sign in with this flow (it asks for the permission
    /// and keeps every one granted before), then check what came with
    /// [`after_consent`].
    NeedsConsent(Box<SignInFlow>),
}

/// Resumes the stored sign-in and says whether it holds `permission`; if
/// not, the flow that asks for it (`ask` adds it to a flow).
pub async fn access(
    settings: &Settings,
    store: Arc<dyn TokenStore>,
    permission: &str,
    ask: impl FnOnce(SignInFlow) -> SignInFlow,
) -> Result<Access> {
    let session = Session::resume(settings, store).await?;
    let granted = session.granted().await;
    if grants(&granted, permission) {
        return Ok(Access::Ready(session));
    }
    Ok(Access::NeedsConsent(Box::new(ask(SignInFlow::new(
        settings,
    )?
    .keeping(&granted)
    .as_account(session.account())))))
}

/// The session of a sign-in made for [`Access::NeedsConsent`], once it is
/// sure `permission` came with it; `needed_for` says what for ("setting
/// your status").
pub fn after_consent(
    settings: &Settings,
    store: Arc<dyn TokenStore>,
    stored: StoredSignIn,
    permission: &str,
    needed_for: &str,
) -> Result<Arc<Session>> {
    if !grants(&stored.tokens.scope, permission) {
        return Err(Error::ConsentRequired(format!(
            "the sign-in did not grant the permission {permission}, which {needed_for} needs."
        )));
    }
    Session::from_stored(settings, store, stored)
}

/// The `tid` claim of an access token that is a JWT, as a lower-case GUID;
/// `None` for anything else (tokens are opaque to clients by contract, so
/// this is only ever a name, never trusted for access). Nothing of the
/// token is logged.
pub fn tenant_id_of(token: &Secret) -> Option<String> {
    use base64::Engine;
    let payload = token.expose().split('.').nth(1)?;
    if payload.len() > 64 * 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    #[derive(Deserialize)]
    struct Claims {
        tid: Option<String>,
    }
    let tid = serde_json::from_slice::<Claims>(&bytes).ok()?.tid?;
    uuid::Uuid::try_parse(tid.trim())
        .ok()
        .map(|id| id.hyphenated().to_string())
}

/// An access token and the refresh token that renews it.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_at: DateTime<Utc>,
    /// Seconds the access token was valid for when issued.
    pub lifetime: Duration,
    pub scope: String,
}

impl TokenSet {
    /// Reads a token answer of the sign-in service as every sign-in and
    /// renewal does (the `oauth2` crate reads the same type, then
    /// [`oauth::token_set`]): the lifetime bounded, the scope as granted, no
    /// refresh token kept from before. An answer that cannot be read is
    /// named by where it went wrong, never by what it said.
    pub fn from_answer(body: &[u8], now: DateTime<Utc>) -> Result<TokenSet> {
        let answer: oauth::TokenAnswer = serde_json::from_slice(body).map_err(|e| {
            Error::SignInFailed(format!(
                "the sign-in service sent a token answer that could not be read (line {}, column {}).",
                e.line(),
                e.column()
            ))
        })?;
        Ok(oauth::token_set(&answer, None, now))
    }

    /// True once the access token is close enough to its end to renew it: five
    /// minutes before, or a quarter of its life for short-lived tokens.
    pub fn refresh_due(&self, now: DateTime<Utc>) -> bool {
        let margin = REFRESH_MARGIN.min(self.lifetime / 4);
        let margin = chrono::Duration::from_std(margin).unwrap_or_default();
        now + margin >= self.expires_at
    }
}

/// One sign-in for one set of settings, by browser or by device code.
pub struct SignInFlow {
    http: reqwest::Client,
    oauth: oauth::OAuthClient,
    settings: Settings,
    extra_scopes: Vec<&'static str>,
    /// The account a sign-in for one more permission must come back as.
    account: Option<Account>,
}

impl SignInFlow {
    pub fn new(settings: &Settings) -> Result<Self> {
        Ok(SignInFlow {
            http: crate::http::default_client(&settings.login_url)?,
            oauth: oauth::client(settings),
            settings: settings.clone(),
            extra_scopes: Vec::new(),
            account: None,
        })
    }

    /// A sign-in for one more permission, as `account` (the one signed in
    /// now): the sign-in page is told who (`login_hint`) instead of
    /// offering every account, and a sign-in that comes back as anyone else
    /// is refused before anything is stored or changed.
    pub fn as_account(mut self, account: &Account) -> Self {
        self.account = Some(account.clone());
        self
    }

    /// Also asks for [`GROUP_SCOPE`], to import teams' members.
    pub fn with_group_access(mut self) -> Self {
        self.extra_scopes.push(GROUP_SCOPE);
        self
    }

    /// Also asks for [`PRESENCE_WRITE_SCOPE`], to set one's own status.
    pub fn with_status_access(mut self) -> Self {
        self.extra_scopes.push(PRESENCE_WRITE_SCOPE);
        self
    }

    /// Also asks for [`CALENDAR_SCOPE`], to read when teammates are free.
    pub fn with_calendar_access(mut self) -> Self {
        self.extra_scopes.push(CALENDAR_SCOPE);
        self
    }

    /// Asks again for every extra permission `granted` holds, so that
    /// signing in for one more does not drop one given before.
    pub fn keeping(mut self, granted: &str) -> Self {
        for extra in extras_granted(granted) {
            if !self.extra_scopes.contains(&extra) {
                self.extra_scopes.push(extra);
            }
        }
        self
    }

    fn scopes(&self) -> String {
        self.settings.scopes_with(&self.extra_scopes)
    }

    /// Learns who signed in (`GET /me`) and stores the sign-in in `store`.
    pub async fn complete(
        &self,
        tokens: TokenSet,
        store: Arc<dyn TokenStore>,
    ) -> Result<StoredSignIn> {
        let account = fetch_account(&self.http, &self.settings, &tokens.access_token).await?;
        if let Some(expected) = &self.account {
            if !account.id.eq_ignore_ascii_case(&expected.id) {
                return Err(Error::SignInFailed(format!(
                    "this was a sign-in as {} to give Presently one more permission, but it came back as {}. Nothing was changed: you are still signed in as {}. To use another account, sign out first.",
                    expected.username, account.username, expected.username
                )));
            }
        }
        let stored = StoredSignIn::new(&self.settings, account, tokens);
        let (to_save, settings) = (stored.clone(), self.settings.clone());
        blocking(move || to_save.save(&settings, store.as_ref())).await?;
        Ok(stored)
    }
}

/// How a sign-in is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInMethod {
    /// Authorization code with PKCE, in this computer's browser.
    Browser,
    /// A device code, entered on any device.
    DeviceCode,
}

/// What the person has to do while a sign-in waits for them.
#[derive(Debug, Clone, Copy)]
pub enum Prompt<'a> {
    /// Sign in on this page in the browser.
    Browser { url: &'a str },
    /// Enter this code on its verification page.
    Code(&'a DeviceCode),
}

/// A sign-in under way: started, waiting for the person.
pub struct StartedSignIn {
    flow: SignInFlow,
    waiting: Waiting,
}

enum Waiting {
    Browser(browser::BrowserSignIn),
    Code(DeviceCode),
}

impl SignInFlow {
    /// The one sign-in sequence of every front end (the command line, the
    /// window, the demo): `begin`, show the [`StartedSignIn::prompt`], then
    /// [`StartedSignIn::finish`].
    pub async fn begin(self, method: SignInMethod) -> Result<StartedSignIn> {
        let waiting = match method {
            SignInMethod::Browser => Waiting::Browser(self.start_browser().await?),
            SignInMethod::DeviceCode => Waiting::Code(self.start().await?),
        };
        Ok(StartedSignIn {
            flow: self,
            waiting,
        })
    }
}

impl StartedSignIn {
    pub fn prompt(&self) -> Prompt<'_> {
        match &self.waiting {
            Waiting::Browser(pending) => Prompt::Browser { url: pending.url() },
            Waiting::Code(code) => Prompt::Code(code),
        }
    }

    /// Waits for the person, learns who signed in and stores the sign-in
    /// in `store`.
    pub async fn finish(self, store: Arc<dyn TokenStore>) -> Result<StoredSignIn> {
        let tokens = match self.waiting {
            Waiting::Browser(pending) => self.flow.wait_browser(pending).await?,
            Waiting::Code(code) => self.flow.wait(&code).await?,
        };
        self.flow.complete(tokens, store).await
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    user_principal_name: Option<String>,
    #[serde(default)]
    mail: Option<String>,
}

async fn fetch_account(
    http: &reqwest::Client,
    settings: &Settings,
    token: &Secret,
) -> Result<Account> {
    let resp = http
        .get(settings.graph_endpoint("me?$select=id,displayName,userPrincipalName,mail"))
        .bearer_auth(token.expose())
        .send()
        .await
        .map_err(|e| Error::network("Could not reach Microsoft Graph", e))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::SignInFailed(format!(
            "signed in, but Microsoft Graph refused to say who you are (HTTP {status})."
        )));
    }
    let body = crate::http::read_limited(resp, oauth::MAX_ANSWER)
        .await
        .map_err(|e| Error::network("Could not read Microsoft Graph's answer", e))?
        .ok_or_else(|| Error::Malformed("the answer to /me is far too large".into()))?;
    let crate::http::Object(me) = serde_json::from_slice::<crate::http::Object<Me>>(&body)
        .map_err(|e| Error::Malformed(format!("the answer to /me ({e})")))?;
    let username = me
        .user_principal_name
        .or(me.mail)
        .unwrap_or_else(|| me.id.clone());
    Ok(Account {
        display_name: me.display_name.unwrap_or_else(|| username.clone()),
        id: me.id,
        username,
        cloud: settings.cloud,
        tenant: settings.tenant.clone(),
        client_id: settings.client_id.clone(),
        signed_in_at: Utc::now(),
        tenant_id: tenant_id_of(token),
    })
}

/// A signed-in session: hands out access tokens and renews them silently.
pub struct Session {
    http: reqwest::Client,
    oauth: oauth::OAuthClient,
    settings: Settings,
    store: Arc<dyn TokenStore>,
    account: Account,
    // A tokio mutex because it is held across the refresh request: with
    // rotating refresh tokens, two refreshes in parallel would spend the same
    // refresh token twice and the second would sign the user out. Other
    // processes are kept out by the file lock of [`lock`].
    tokens: tokio::sync::Mutex<TokenSet>,
    /// Why the session ended, once it has: every later call fails the same way.
    ended: Mutex<Option<Error>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Resumes the sign-in stored for these settings, or says that there is
    /// none, or that the one stored belongs to other hosts (then nothing is
    /// sent anywhere).
    pub async fn resume(settings: &Settings, store: Arc<dyn TokenStore>) -> Result<Arc<Session>> {
        let loaded = {
            let (settings, store) = (settings.clone(), store.clone());
            blocking(move || StoredSignIn::load(&settings, store.as_ref())).await?
        };
        let stored = loaded.ok_or_else(|| {
            Error::SignInNeeded(format!(
                "Not signed in to the {} cloud (tenant {}) at {}. Run `presently login`.",
                settings.cloud.display_name(),
                settings.tenant,
                settings.login_url.host_str().unwrap_or_default()
            ))
        })?;
        Session::from_stored(settings, store, stored)
    }

    pub fn from_stored(
        settings: &Settings,
        store: Arc<dyn TokenStore>,
        stored: StoredSignIn,
    ) -> Result<Arc<Session>> {
        stored.check_hosts(settings)?;
        Ok(Arc::new(Session {
            http: crate::http::default_client(&settings.login_url)?,
            oauth: oauth::client(settings),
            settings: settings.clone(),
            store,
            account: stored.account,
            tokens: tokio::sync::Mutex::new(stored.tokens),
            ended: Mutex::new(None),
        }))
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The permissions the current tokens were granted (their answer's
    /// `scope`), to see with [`grants`] whether one more must be asked for.
    pub async fn granted(&self) -> String {
        self.tokens.lock().await.scope.clone()
    }

    fn check_not_ended(&self) -> Result<()> {
        match self.ended.lock().unwrap().as_ref() {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }

    /// A valid access token, renewed first if it is about to expire.
    pub async fn current_token(&self) -> Result<Secret> {
        self.check_not_ended()?;
        let mut tokens = self.tokens.lock().await;
        if tokens.refresh_due(Utc::now()) {
            self.renew(&mut tokens, false).await?;
        }
        Ok(tokens.access_token.clone())
    }

    /// Renews the access token now, because Graph rejected `rejected`.
    pub async fn renew_after_rejection(&self, rejected: Option<&Secret>) -> Result<Secret> {
        self.check_not_ended()?;
        let mut tokens = self.tokens.lock().await;
        // Another request may have renewed it while we waited for the lock.
        if rejected.is_some_and(|r| *r != tokens.access_token) {
            return Ok(tokens.access_token.clone());
        }
        self.renew(&mut tokens, true).await?;
        Ok(tokens.access_token.clone())
    }

    /// Read, renew and save, with the sign-in's file lock held throughout:
    /// the tray app and every `presently` command share the keyring entry,
    /// and a refresh token redeemed twice would sign everyone out.
    async fn renew(&self, tokens: &mut TokenSet, rejected: bool) -> Result<()> {
        let _lock = lock::SignInLock::acquire(&self.settings).await?;
        match self.stored_tokens().await {
            Ok(None) => {
                return Err(self.end(Error::SignInNeeded(
                    "You were signed out: the sign-in was removed from the keyring (by `presently logout` or Sign out in the app). Run `presently login` to sign in again.".into(),
                )))
            }
            // Another process renewed it while this one waited: use its tokens.
            Ok(Some(newer)) if newer.refresh_token != tokens.refresh_token => {
                let rejected_here = rejected && newer.access_token == tokens.access_token;
                *tokens = newer;
                if !rejected_here && !tokens.refresh_due(Utc::now()) {
                    return Ok(());
                }
            }
            Ok(Some(_)) => {}
            // A keyring that cannot be read now does not stop the renewal;
            // saving its result is reported below if it fails too.
            Err(e) => tracing::warn!("could not read the stored sign-in before renewing it: {e}"),
        }
        let Some(refresh) = tokens.refresh_token.clone() else {
            return Err(self.end(Error::SignInNeeded(
                "You were signed out because the sign-in has expired and cannot be renewed. Run `presently login`.".into(),
            )));
        };
        match self.redeem(&refresh, &tokens.scope).await? {
            Ok(answer) => {
                let granted = std::mem::take(&mut tokens.scope);
                *tokens = oauth::token_set(&answer, Some(&refresh), Utc::now());
                // An answer without `scope` grants what was asked for
                // (RFC 6749, 5.1): the same as before.
                if tokens.scope.is_empty() {
                    tokens.scope = granted;
                }
                self.persist(tokens).await;
                Ok(())
            }
            // Not a revocation: the sign-in stays stored for when consent is given.
            Err(r) if r.is_consent_required() => {
                r.log("to renew the sign-in");
                Err(self.end(Error::ConsentRenewal {
                    permission: r.permission(),
                    said: r.summary(),
                }))
            }
            // Not a revocation either, as with consent: the refresh token
            // stays valid, and may work again by itself (back on the office
            // network, a compliant device again). So the sign-in stays
            // stored; a new one replaces it. Asking again would only be
            // refused again: the session ends until the person signs in.
            Err(r) if r.needs_interaction() => {
                r.log("to renew the sign-in");
                Err(self.end(Error::InteractionRequired {
                    why: r.interaction_reason(),
                    said: r.summary(),
                }))
            }
            Err(r) if r.error == "invalid_grant" => {
                r.log("to renew the sign-in");
                let why = format!(
                    "You were signed out because Microsoft no longer accepts this sign-in (it was revoked, or unused for too long): {}. Run `presently login` to sign in again.",
                    r.summary()
                );
                let (settings, store) = (self.settings.clone(), self.store.clone());
                // The refresh token is dead: keeping it would only fail again.
                if let Err(e) =
                    blocking(move || stored::delete_unlocked(&settings, store.as_ref())).await
                {
                    tracing::warn!("could not remove the revoked sign-in: {e}");
                }
                Err(self.end(Error::SignInNeeded(why)))
            }
            Err(r) => {
                r.log("to renew the sign-in");
                Err(Error::SignInFailed(r.summary()))
            }
        }
    }

    /// One refresh-token grant: the answer, or the service's refusal.
    async fn redeem(
        &self,
        refresh: &Secret,
        granted: &str,
    ) -> Result<std::result::Result<oauth::TokenAnswer, oauth::Refusal>> {
        // Ask again for what was granted: asking for more would need consent
        // anew, asking for less would drop a permission the user chose.
        let scopes = self.settings.scopes_with(&extras_granted(granted));
        let token = oauth2::RefreshToken::new(refresh.expose().to_string());
        let answer = self
            .oauth
            .exchange_refresh_token(&token)
            .add_scopes(oauth::scopes(&scopes))
            .request_async(&oauth::Http::new(self.http.clone()))
            .await;
        match answer {
            Ok(a) => Ok(Ok(a)),
            Err(e) => oauth::refusal(e).map(Err).map_err(|e| match e {
                Error::Network(why) => {
                    Error::Network(format!("Could not renew your sign-in: {why}"))
                }
                other => other,
            }),
        }
    }

    /// The tokens stored for this account, read while the lock is held.
    async fn stored_tokens(&self) -> Result<Option<TokenSet>> {
        let (settings, store) = (self.settings.clone(), self.store.clone());
        let id = self.account.id.clone();
        blocking(move || {
            Ok(stored::load_unlocked(&settings, store.as_ref())?
                .filter(|s| s.account.id == id)
                .map(|s| s.tokens))
        })
        .await
    }

    /// Writes renewed tokens to the keyring. The old refresh token is already
    /// spent, so failing here does not end the session; it is reported, and
    /// the next start asks to sign in again if it never succeeds.
    async fn persist(&self, tokens: &TokenSet) {
        let stored = StoredSignIn::new(&self.settings, self.account.clone(), tokens.clone());
        let (settings, store) = (self.settings.clone(), self.store.clone());
        if let Err(e) =
            blocking(move || stored::save_unlocked(&stored, &settings, store.as_ref())).await
        {
            tracing::warn!("renewed sign-in could not be saved: {e}");
        }
    }

    fn end(&self, why: Error) -> Error {
        *self.ended.lock().unwrap() = Some(why.clone());
        why
    }
}

impl AccessTokens for Session {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(self.current_token())
    }

    fn token_rejected(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(async move {
            let current = self.tokens.lock().await.access_token.clone();
            self.renew_after_rejection(Some(&current)).await
        })
    }

    fn issued_for(&self) -> Option<&url::Url> {
        Some(&self.settings.graph_url)
    }
}
/// Runs a keyring call off the async threads (it blocks, up to its timeout).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Keyring(format!("The keyring call failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tenant_id_is_read_from_a_jwt_and_nothing_else() {
        use base64::Engine;
        let jwt = |claims: &str| {
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            Secret::new(format!("{}.{}.sig", b64("{\"typ\":\"JWT\"}"), b64(claims)))
        };
        assert_eq!(
            tenant_id_of(&jwt(
                r#"{"tid":"72F988BF-86F1-41AF-91AB-2D7CD011DB47","oid":"x"}"#
            )),
            Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into())
        );
        for not_one in [
            Secret::new("EwBwA8l6BAAU...opaque"),
            jwt(r#"{"oid":"x"}"#),
            jwt(r#"{"tid":"contoso.com"}"#),
            jwt(r#"{"tid":7}"#),
            jwt("[1,2]"),
            Secret::new("a.%%%.b"),
            Secret::new(""),
        ] {
            assert_eq!(tenant_id_of(&not_one), None);
        }
        let account = Account::debra();
        assert_eq!(account.tenant_key(), "organizations");
        let known = Account {
            tenant_id: Some("72f988bf-86f1-41af-91ab-2d7cd011db47".into()),
            ..account
        };
        assert_eq!(known.tenant_key(), "72f988bf-86f1-41af-91ab-2d7cd011db47");
    }

    #[test]
    fn granted_permissions_are_read_by_their_last_segment_in_any_case() {
        let entra = "Presence.Read.All User.Read profile openid";
        assert!(!grants(entra, PRESENCE_WRITE_SCOPE));
        assert!(grants(
            "https://graph.microsoft.us/presence.readwrite User.Read",
            PRESENCE_WRITE_SCOPE
        ));
        assert!(!grants("Presence.ReadWrite.All", PRESENCE_WRITE_SCOPE));
        assert!(!grants("", PRESENCE_WRITE_SCOPE));
        assert_eq!(extras_granted(entra), Vec::<&str>::new());
        assert_eq!(
            extras_granted("User.Read GroupMember.Read.All Presence.ReadWrite Calendars.ReadBasic"),
            vec![GROUP_SCOPE, PRESENCE_WRITE_SCOPE, CALENDAR_SCOPE]
        );
    }
}
