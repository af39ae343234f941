//! Sign-in: the OAuth 2.0 device authorization grant (RFC 8628) and silent
//! refresh with rotating refresh tokens.
//!
//! [`SignInFlow`] gets a device code, waits for the person to approve it and
//! stores the result; [`Session`] hands out access tokens afterwards,
//! refreshing them before they expire. Tokens travel only as [`Secret`]s and
//! rest only in a [`TokenStore`] (the OS keyring).

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

/// Something that hands out a valid access token for Microsoft Graph.
///
/// The Graph client asks for a token before each request, and calls
/// [`AccessTokens::token_rejected`] once when Graph answers 401, to get a fresh
/// one (or learn that the user has to sign in again: `Error::SignInNeeded`).
pub trait AccessTokens: Send + Sync + 'static {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>>;
    fn token_rejected(&self) -> BoxFuture<'_, Result<Secret>>;
}

const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// RFC 8628 §3.5: on `slow_down` the interval grows by 5 seconds.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
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
    /// True once the access token is close enough to its end to renew it: five
    /// minutes before, or a quarter of its life for short-lived tokens.
    pub fn refresh_due(&self, now: DateTime<Utc>) -> bool {
        let margin = REFRESH_MARGIN.min(self.lifetime / 4);
        let margin = chrono::Duration::from_std(margin).unwrap_or_default();
        now + margin >= self.expires_at
    }
}

/// What sits in the keyring for one cloud/tenant/client: tokens and account.
#[derive(Debug, Clone)]
pub struct StoredSignIn {
    pub account: Account,
    pub tokens: TokenSet,
}

/// The keyring blob's shape. Plain strings live only as long as it takes to
/// (de)serialise; everywhere else they are `Secret`s.
#[derive(Serialize, Deserialize)]
struct Blob {
    version: u32,
    account: Account,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: DateTime<Utc>,
    lifetime_s: u64,
    scope: String,
}

impl StoredSignIn {
    fn to_secret(&self) -> Secret {
        let blob = Blob {
            version: 1,
            account: self.account.clone(),
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
        // serde's error names the position, never the content.
        let blob: Blob = serde_json::from_str(s.expose()).map_err(|e| {
            Error::SignInNeeded(format!(
                "The sign-in saved in your keyring could not be read ({e}). Run `presently login` to sign in again."
            ))
        })?;
        Ok(StoredSignIn {
            account: blob.account,
            tokens: TokenSet {
                access_token: Secret::new(blob.access_token),
                refresh_token: blob.refresh_token.map(Secret::new),
                expires_at: blob.expires_at,
                lifetime: Duration::from_secs(blob.lifetime_s),
                scope: blob.scope,
            },
        })
    }

    /// Reads the sign-in for these settings from the store, if there is one.
    pub fn load(settings: &Settings, store: &dyn TokenStore) -> Result<Option<StoredSignIn>> {
        store
            .load(&settings.keyring_account())?
            .map(|s| StoredSignIn::from_secret(&s))
            .transpose()
    }

    pub fn save(&self, settings: &Settings, store: &dyn TokenStore) -> Result<()> {
        store.save(&settings.keyring_account(), &self.to_secret())
    }
}

/// Removes the stored sign-in for these settings. Returns whether there was one.
pub fn sign_out(settings: &Settings, store: &dyn TokenStore) -> Result<bool> {
    let account = settings.keyring_account();
    let had = store.load(&account)?.is_some();
    store.delete(&account)?;
    Ok(had)
}

/// The HTTP client for sign-in and Graph, with timeouts that keep a dead
/// network from hanging anything.
pub fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("Presently/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Network(format!("Could not set up networking: {e}")))
}

/// A device code as the sign-in service issued it.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// The code the person types on the verification page.
    pub user_code: String,
    /// The page to open, exactly as the service said (never hard-coded).
    pub verification_uri: String,
    /// The service's ready-made instructions.
    pub message: String,
    pub expires_in: Duration,
    /// How long to wait between two polls; grows on `slow_down`.
    pub interval: Duration,
    device_code: Secret,
}

/// The answer to one poll of the token endpoint.
#[derive(Debug)]
pub enum Poll {
    /// Nobody has approved the code yet.
    Pending,
    /// We polled too fast; the interval is now longer.
    SlowDown,
    SignedIn(TokenSet),
}

#[derive(Deserialize)]
struct DeviceCodeAnswer {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default = "default_expires_in")]
    expires_in: u64,
    #[serde(default = "default_interval")]
    interval: u64,
}

fn default_expires_in() -> u64 {
    900
}

fn default_interval() -> u64 {
    5
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: u64,
    #[serde(default)]
    scope: String,
}

impl TokenAnswer {
    fn into_tokens(self, previous_refresh: Option<&Secret>) -> TokenSet {
        let lifetime = Duration::from_secs(self.expires_in);
        TokenSet {
            access_token: Secret::new(self.access_token),
            // Microsoft rotates refresh tokens: a new one always replaces the
            // old. Only if none came back do we keep using the old one.
            refresh_token: self
                .refresh_token
                .map(Secret::new)
                .or_else(|| previous_refresh.cloned()),
            expires_at: Utc::now() + chrono::Duration::from_std(lifetime).unwrap_or_default(),
            lifetime,
            scope: self.scope,
        }
    }
}

/// An OAuth error answer: `{"error": "...", "error_description": "AADSTS...: ..."}`.
#[derive(Deserialize, Debug)]
struct OAuthError {
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    suberror: Option<String>,
}

impl OAuthError {
    /// The first line of the description: Microsoft appends trace and
    /// correlation IDs on later lines, which mean nothing to people.
    fn summary(&self) -> String {
        let first = self.error_description.lines().next().unwrap_or("").trim();
        if first.is_empty() {
            self.error.clone()
        } else {
            first.to_string()
        }
    }

    fn is_consent_required(&self) -> bool {
        self.suberror.as_deref() == Some("consent_required")
            || self.error == "consent_required"
            || self.error_description.contains("AADSTS65001")
    }
}

/// Reads a token-endpoint answer: the tokens, or the OAuth error it carries.
async fn read_token_answer(
    resp: reqwest::Response,
) -> Result<std::result::Result<TokenAnswer, OAuthError>> {
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| Error::network("Reading the sign-in service's answer failed", e))?;
    if status.is_success() {
        return serde_json::from_slice::<TokenAnswer>(&body)
            .map(Ok)
            .map_err(|e| {
                Error::SignInFailed(format!(
                    "the sign-in service sent an unreadable answer ({e})."
                ))
            });
    }
    match serde_json::from_slice::<OAuthError>(&body) {
        Ok(err) => Ok(Err(err)),
        Err(_) => Err(Error::SignInFailed(format!(
            "the sign-in service answered HTTP {status}."
        ))),
    }
}

/// The device-code sign-in for one set of settings.
pub struct SignInFlow {
    http: reqwest::Client,
    settings: Settings,
    extra_scopes: Vec<&'static str>,
}

impl SignInFlow {
    pub fn new(settings: &Settings) -> Result<Self> {
        Ok(SignInFlow {
            http: http_client()?,
            settings: settings.clone(),
            extra_scopes: Vec::new(),
        })
    }

    /// Also asks for [`GROUP_SCOPE`], to import teams' members.
    pub fn with_group_access(mut self) -> Self {
        self.extra_scopes.push(GROUP_SCOPE);
        self
    }

    /// Asks the sign-in service for a device code.
    pub async fn start(&self) -> Result<DeviceCode> {
        let scopes = self.settings.scopes_with(&self.extra_scopes);
        let resp = self
            .http
            .post(self.settings.oauth_url("devicecode"))
            .form(&[
                ("client_id", self.settings.client_id.as_str()),
                ("scope", scopes.as_str()),
            ])
            .send()
            .await
            .map_err(|e| Error::network("Could not reach the sign-in service", e))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| Error::network("Reading the sign-in service's answer failed", e))?;
        if !status.is_success() {
            return Err(match serde_json::from_slice::<OAuthError>(&body) {
                Ok(e) if e.is_consent_required() => Error::ConsentRequired(e.summary()),
                Ok(e) => Error::SignInFailed(e.summary()),
                Err(_) => Error::SignInFailed(format!(
                    "the sign-in service answered HTTP {status} when asked for a code."
                )),
            });
        }
        let a: DeviceCodeAnswer = serde_json::from_slice(&body).map_err(|e| {
            Error::SignInFailed(format!(
                "the sign-in service sent an unreadable code ({e})."
            ))
        })?;
        let message = a.message.unwrap_or_else(|| {
            format!(
                "To sign in, use a web browser to open the page {} and enter the code {} to authenticate.",
                a.verification_uri, a.user_code
            )
        });
        Ok(DeviceCode {
            user_code: a.user_code,
            verification_uri: a.verification_uri,
            message,
            expires_in: Duration::from_secs(a.expires_in),
            interval: Duration::from_secs(a.interval.max(1)),
            device_code: Secret::new(a.device_code),
        })
    }

    /// Polls the token endpoint once. On `slow_down` the code's interval grows.
    pub async fn poll(&self, code: &mut DeviceCode) -> Result<Poll> {
        let resp = self
            .http
            .post(self.settings.oauth_url("token"))
            .form(&[
                ("grant_type", DEVICE_CODE_GRANT),
                ("client_id", self.settings.client_id.as_str()),
                ("device_code", code.device_code.expose()),
            ])
            .send()
            .await
            .map_err(|e| Error::network("Could not reach the sign-in service", e))?;
        match read_token_answer(resp).await? {
            Ok(tokens) => Ok(Poll::SignedIn(tokens.into_tokens(None))),
            Err(e) => match e.error.as_str() {
                "authorization_pending" => Ok(Poll::Pending),
                "slow_down" => {
                    code.interval += SLOW_DOWN_STEP;
                    Ok(Poll::SlowDown)
                }
                "authorization_declined" | "access_denied" => Err(Error::SignInDeclined),
                "expired_token" => Err(Error::SignInExpired),
                _ if e.is_consent_required() => Err(Error::ConsentRequired(e.summary())),
                "bad_verification_code" => Err(Error::SignInFailed(format!(
                    "the sign-in service no longer knows this code ({}). Run `presently login` again.",
                    e.summary()
                ))),
                _ => Err(Error::SignInFailed(e.summary())),
            },
        }
    }

    /// Polls every `interval` until the code is approved, declined or expires.
    pub async fn wait(&self, code: &mut DeviceCode) -> Result<TokenSet> {
        let deadline = tokio::time::Instant::now() + code.expires_in;
        loop {
            tokio::time::sleep(code.interval).await;
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::SignInExpired);
            }
            match self.poll(code).await? {
                Poll::Pending | Poll::SlowDown => continue,
                Poll::SignedIn(tokens) => return Ok(tokens),
            }
        }
    }

    /// Learns who signed in (`GET /me`) and stores the sign-in in `store`.
    pub async fn complete(
        &self,
        tokens: TokenSet,
        store: Arc<dyn TokenStore>,
    ) -> Result<StoredSignIn> {
        let account = fetch_account(&self.http, &self.settings, &tokens.access_token).await?;
        let stored = StoredSignIn { account, tokens };
        let (to_save, settings) = (stored.clone(), self.settings.clone());
        blocking(move || to_save.save(&settings, store.as_ref())).await?;
        Ok(stored)
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
    let me: Me = resp
        .json()
        .await
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
    })
}

/// A signed-in session: hands out access tokens and renews them silently.
pub struct Session {
    http: reqwest::Client,
    settings: Settings,
    store: Arc<dyn TokenStore>,
    account: Account,
    // A tokio mutex because it is held across the refresh request: with
    // rotating refresh tokens, two refreshes in parallel would spend the same
    // refresh token twice and the second would sign the user out.
    tokens: tokio::sync::Mutex<TokenSet>,
    /// Why the session ended, once it has: every later call fails the same way.
    ended: Mutex<Option<String>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Resumes the sign-in stored for these settings, or says that there is none.
    pub async fn resume(settings: &Settings, store: Arc<dyn TokenStore>) -> Result<Arc<Session>> {
        let loaded = {
            let (settings, store) = (settings.clone(), store.clone());
            blocking(move || StoredSignIn::load(&settings, store.as_ref())).await?
        };
        let stored = loaded.ok_or_else(|| {
            Error::SignInNeeded(format!(
                "Not signed in to the {} cloud (tenant {}). Run `presently login`.",
                settings.cloud.display_name(),
                settings.tenant
            ))
        })?;
        Session::from_stored(settings, store, stored)
    }

    pub fn from_stored(
        settings: &Settings,
        store: Arc<dyn TokenStore>,
        stored: StoredSignIn,
    ) -> Result<Arc<Session>> {
        Ok(Arc::new(Session {
            http: http_client()?,
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

    fn check_not_ended(&self) -> Result<()> {
        match self.ended.lock().unwrap().as_ref() {
            Some(why) => Err(Error::SignInNeeded(why.clone())),
            None => Ok(()),
        }
    }

    /// A valid access token, renewed first if it is about to expire.
    pub async fn current_token(&self) -> Result<Secret> {
        self.check_not_ended()?;
        let mut tokens = self.tokens.lock().await;
        if tokens.refresh_due(Utc::now()) {
            self.refresh_locked(&mut tokens).await?;
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
        self.refresh_locked(&mut tokens).await?;
        Ok(tokens.access_token.clone())
    }

    async fn refresh_locked(&self, tokens: &mut TokenSet) -> Result<()> {
        let Some(refresh) = tokens.refresh_token.clone() else {
            return Err(self.end(
                "You were signed out because the sign-in has expired and cannot be renewed. Run `presently login`.".into(),
            ));
        };
        let granted = tokens.scope.clone();
        match self.redeem(&refresh, &granted).await? {
            Ok(answer) => {
                *tokens = answer.into_tokens(Some(&refresh));
                self.persist(tokens).await;
                Ok(())
            }
            Err(oauth) if oauth.error == "invalid_grant" => {
                // Another Presently process (the tray app and `watch` share the
                // keyring entry) may have rotated the refresh token already.
                if let Some(newer) = self.stored_tokens().await {
                    if newer.refresh_token.as_ref() != Some(&refresh) {
                        *tokens = newer;
                        if !tokens.refresh_due(Utc::now()) {
                            return Ok(());
                        }
                        if let Some(r) = tokens.refresh_token.clone() {
                            if let Ok(answer) = self.redeem(&r, &granted).await? {
                                *tokens = answer.into_tokens(Some(&r));
                                self.persist(tokens).await;
                                return Ok(());
                            }
                        }
                    }
                }
                let why = format!(
                    "You were signed out because Microsoft no longer accepts this sign-in (it was revoked, or unused for too long): {}. Run `presently login` to sign in again.",
                    oauth.summary()
                );
                let settings = self.settings.clone();
                let store = self.store.clone();
                // The refresh token is dead: keeping it would only fail again.
                if let Err(e) =
                    blocking(move || sign_out(&settings, store.as_ref()).map(|_| ())).await
                {
                    tracing::warn!("could not remove the revoked sign-in: {e}");
                }
                Err(self.end(why))
            }
            Err(oauth) if oauth.is_consent_required() => {
                Err(Error::ConsentRequired(oauth.summary()))
            }
            Err(oauth) => Err(Error::SignInFailed(oauth.summary())),
        }
    }

    async fn redeem(
        &self,
        refresh: &Secret,
        granted: &str,
    ) -> Result<std::result::Result<TokenAnswer, OAuthError>> {
        // Ask again for what was granted: asking for more would need consent
        // anew, asking for less would drop a permission the user chose.
        let extra: &[&str] = if granted.contains(GROUP_SCOPE) {
            &[GROUP_SCOPE]
        } else {
            &[]
        };
        let scopes = self.settings.scopes_with(extra);
        let resp = self
            .http
            .post(self.settings.oauth_url("token"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", self.settings.client_id.as_str()),
                ("refresh_token", refresh.expose()),
                ("scope", scopes.as_str()),
            ])
            .send()
            .await
            .map_err(|e| {
                Error::network(
                    "Could not reach the sign-in service to renew your sign-in",
                    e,
                )
            })?;
        read_token_answer(resp).await
    }

    async fn stored_tokens(&self) -> Option<TokenSet> {
        let (settings, store) = (self.settings.clone(), self.store.clone());
        match blocking(move || StoredSignIn::load(&settings, store.as_ref())).await {
            Ok(Some(s)) if s.account.id == self.account.id => Some(s.tokens),
            _ => None,
        }
    }

    /// Writes renewed tokens to the keyring. The old refresh token is already
    /// spent, so failing here does not end the session; it is reported, and
    /// the next start asks to sign in again if it never succeeds.
    async fn persist(&self, tokens: &TokenSet) {
        let stored = StoredSignIn {
            account: self.account.clone(),
            tokens: tokens.clone(),
        };
        let (settings, store) = (self.settings.clone(), self.store.clone());
        if let Err(e) = blocking(move || stored.save(&settings, store.as_ref())).await {
            tracing::warn!("renewed sign-in could not be saved: {e}");
        }
    }

    fn end(&self, why: String) -> Error {
        *self.ended.lock().unwrap() = Some(why.clone());
        Error::SignInNeeded(why)
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
}

/// Runs a keyring call off the async threads (it blocks, up to its timeout).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Keyring(format!("The keyring call failed: {e}")))?
}
