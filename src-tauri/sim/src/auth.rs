//! Entra ID's side of sign-in: device codes and authorization requests
//! waiting for a person, the authorization codes a person's approval turns
//! into, and the access and refresh tokens they all end in; and the access
//! tokens of apps that sign in as themselves (whose credentials
//! `credentials` checks).
//!
//! Strict where Entra ID is strict, and stricter where the facts sheet asks
//! for the strict reading: polling faster than `interval` answers `slow_down`
//! (and, as RFC 8628 says, adds 5 s to the interval for that code), a device
//! code or an authorization code works once, PKCE is required and only with
//! `S256`, and refresh tokens rotate: a used one is dead at once.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use crate::error::{Result, SimError};
use crate::scopes::{grant, OIDC_SCOPES};
use crate::tokens::{AppAuth, Minter};

/// A token pair minted by [`crate::Sim::issue_tokens`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds the access token stays valid.
    pub expires_in: u64,
}

/// How refresh tokens have been used, from [`crate::Sim::refresh_stats`]:
/// a client that never redeems a refresh token twice keeps `reused` at 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshStats {
    /// Refresh-token grants answered with new tokens.
    pub redeemed: u64,
    /// Attempts to redeem a refresh token that had already been redeemed
    /// (answered `invalid_grant`, `AADSTS70008`).
    pub reused: u64,
}

/// Lifetime of a refresh token that is not used, as Entra ID's default.
const REFRESH_LIFETIME: Duration = Duration::from_secs(90 * 24 * 3600);
/// RFC 8628: after `slow_down`, the client must wait this much longer.
const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);
/// Entra ID's authorization codes expire 10 minutes after they are issued.
const AUTHORIZATION_CODE_LIFETIME: Duration = Duration::from_secs(600);
/// How long the sign-in page of an authorization request stays usable; after
/// that Entra ID answers that the flow token has expired (`AADSTS50089`).
const AUTHORIZATION_PAGE_LIFETIME: Duration = Duration::from_secs(900);
/// Spent codes and requests are remembered this long after they expire, so
/// that a late use gets "expired" rather than "unknown", then forgotten so
/// that a long demo does not grow.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// An error answer of the token endpoint, before it is dressed as JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntraError {
    pub error: &'static str,
    pub code: u32,
    pub description: String,
    pub suberror: Option<&'static str>,
}

impl EntraError {
    pub fn new(error: &'static str, code: u32, description: impl Into<String>) -> EntraError {
        EntraError {
            error,
            code,
            description: description.into(),
            suberror: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CodeState {
    Pending,
    Approved { user: usize, consent: bool },
    Declined,
    Redeemed,
}

#[derive(Debug)]
struct DeviceCode {
    device_code: String,
    user_code: String,
    client_id: String,
    scopes: Vec<&'static str>,
    expires: Instant,
    interval: Duration,
    last_poll: Option<Instant>,
    state: CodeState,
}

/// What an access or refresh token grants.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    /// The person the token acts for; `None` for an app's own token (the
    /// client credentials grant), which acts for nobody.
    pub user: Option<usize>,
    /// `None` for tokens minted by `issue_tokens`: any client may use them.
    pub client_id: Option<String>,
    /// A person's token: the delegated permissions (`scp`). An app's: the
    /// application permissions its tenant's administrator consented to
    /// (`roles`).
    pub scopes: Vec<&'static str>,
    pub expires: Instant,
}

impl Grant {
    pub fn has_any(&self, wanted: &[&str]) -> bool {
        self.scopes.iter().any(|s| wanted.contains(s))
    }

    /// An app's own token, not a person's.
    pub fn is_app(&self) -> bool {
        self.user.is_none()
    }
}

/// A successful token answer.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub scopes: Vec<&'static str>,
    pub user: usize,
}

/// What a client asked for at `/authorize`, once the request has been
/// checked: waiting for the person on the sign-in page.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizationRequest {
    pub client_id: String,
    /// Exactly as sent: the token request must send the same string.
    pub redirect_uri: String,
    pub scopes: Vec<&'static str>,
    /// The client's `state`, handed back untouched on the redirect.
    pub state: Option<String>,
    /// `BASE64URL(SHA256(code_verifier))`, RFC 7636's `S256`.
    pub code_challenge: String,
}

#[derive(Debug)]
struct PendingAuthorization {
    id: String,
    request: AuthorizationRequest,
    expires: Instant,
}

/// Why an authorization request's page cannot be answered any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthorizationGone {
    /// Never issued, already answered, or forgotten.
    Unknown,
    Expired,
}

#[derive(Debug)]
struct AuthorizationCode {
    code: String,
    request: AuthorizationRequest,
    user: usize,
    expires: Instant,
    redeemed: bool,
}

/// RFC 7636, section 4.6, with `S256`.
pub(crate) fn pkce_challenge(code_verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(code_verifier.as_bytes()))
}

/// What a device-code request hands back.
#[derive(Debug, Clone)]
pub(crate) struct NewCode {
    pub device_code: String,
    pub user_code: String,
}

#[derive(Debug)]
pub(crate) struct Auth {
    minter: Minter,
    access_lifetime: Duration,
    /// Of an app's own tokens, which Entra ID gives a second less.
    app_lifetime: Duration,
    code_lifetime: Duration,
    poll_interval: Duration,
    codes: Vec<DeviceCode>,
    authorizations: Vec<PendingAuthorization>,
    authorization_codes: Vec<AuthorizationCode>,
    access: HashMap<String, Grant>,
    refresh: HashMap<String, Grant>,
    /// Refresh tokens already exchanged for new ones.
    spent: HashSet<String>,
    /// Refresh tokens killed by `revoke_all`.
    revoked: HashSet<String>,
    refresh_stats: RefreshStats,
    /// Approve every new device code and authorization request at once as
    /// `users()[0]`.
    pub auto_approve: bool,
    /// A Conditional Access policy that blocks the device code flow.
    pub device_code_blocked: bool,
    /// A permission the tenant withdrew consent for: every refresh fails
    /// with `consent_required` naming it, until it is cleared.
    pub refresh_consent_required: Option<String>,
    /// An `AADSTS` code for which every refresh asks the person to sign in
    /// again (see [`crate::Sim::set_refresh_interaction_required`]), until
    /// it is cleared.
    pub refresh_interaction_required: Option<u32>,
}

/// The refusal of a refresh that needs the person, for `code`.
fn interaction_required(code: u32) -> EntraError {
    let graph = "00000003-0000-0000-c000-000000000000";
    let (error, suberror, description) = match code {
        50076 => (
            "invalid_grant",
            Some("basic_action"),
            format!("Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{graph}'."),
        ),
        53003 => (
            "invalid_grant",
            Some("message_only"),
            "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.".to_string(),
        ),
        50079 => (
            "interaction_required",
            None,
            format!("Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access '{graph}'."),
        ),
        50158 => (
            "interaction_required",
            None,
            "External security challenge not satisfied. User will be redirected to another page or authentication provider to satisfy additional authentication challenges.".to_string(),
        ),
        _ => (
            "interaction_required",
            None,
            "The user must sign in interactively to continue.".to_string(),
        ),
    };
    EntraError {
        error,
        code,
        description,
        suberror,
    }
}

impl Auth {
    pub fn new(
        minter: Minter,
        access_lifetime: Duration,
        app_lifetime: Duration,
        code_lifetime: Duration,
        poll_interval: Duration,
    ) -> Auth {
        Auth {
            minter,
            access_lifetime,
            app_lifetime,
            code_lifetime,
            poll_interval,
            codes: Vec::new(),
            authorizations: Vec::new(),
            authorization_codes: Vec::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            spent: HashSet::new(),
            revoked: HashSet::new(),
            refresh_stats: RefreshStats::default(),
            auto_approve: false,
            device_code_blocked: false,
            refresh_consent_required: None,
            refresh_interaction_required: None,
        }
    }

    pub fn new_device_code(
        &mut self,
        client_id: &str,
        scopes: Vec<&'static str>,
        now: Instant,
    ) -> NewCode {
        self.codes
            .retain(|c| now.saturating_duration_since(c.expires) < FORGET_AFTER);
        let mut rng = rand::thread_rng();
        let user_code = loop {
            // Entra ID's user codes: nine upper-case letters and digits.
            const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
            let code: String = (0..9)
                .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
                .collect();
            if !self.codes.iter().any(|c| c.user_code == code) {
                break code;
            }
        };
        let device_code = format!("DAQABIQEAAAD{}", Alphanumeric.sample_string(&mut rng, 120));
        self.codes.push(DeviceCode {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: client_id.to_lowercase(),
            scopes,
            expires: now + self.code_lifetime,
            interval: self.poll_interval,
            last_poll: None,
            state: CodeState::Pending,
        });
        NewCode {
            device_code,
            user_code,
        }
    }

    pub fn pending_codes(&self, now: Instant) -> Vec<String> {
        self.codes
            .iter()
            .filter(|c| c.state == CodeState::Pending && now < c.expires)
            .map(|c| c.user_code.clone())
            .collect()
    }

    fn code_mut(&mut self, user_code: &str) -> Result<&mut DeviceCode> {
        // People type codes in any case, sometimes with spaces or dashes.
        let typed: String = user_code
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        self.codes
            .iter_mut()
            .find(|c| c.user_code == typed)
            .ok_or_else(|| SimError::UnknownCode(user_code.to_owned()))
    }

    /// A person's answer to the sign-in page: approve (with or without
    /// consent) as `user`, or decline (`user` = `None`).
    pub fn answer(
        &mut self,
        user_code: &str,
        user: Option<(usize, bool)>,
        now: Instant,
    ) -> Result<()> {
        let code = self.code_mut(user_code)?;
        if now >= code.expires {
            return Err(SimError::CodeExpired(code.user_code.clone()));
        }
        let state = match code.state {
            CodeState::Pending => None,
            CodeState::Approved { .. } => Some("approved"),
            CodeState::Declined => Some("declined"),
            CodeState::Redeemed => Some("redeemed"),
        };
        if let Some(state) = state {
            return Err(SimError::CodeNotPending {
                code: code.user_code.clone(),
                state,
            });
        }
        code.state = match user {
            Some((user, consent)) => CodeState::Approved { user, consent },
            None => CodeState::Declined,
        };
        Ok(())
    }

    /// One poll of the token endpoint with a device code.
    pub fn redeem_device_code(
        &mut self,
        client_id: &str,
        device_code: &str,
        now: Instant,
    ) -> Result<Issued, EntraError> {
        if self.device_code_blocked {
            // Entra ID says no more than this, on purpose: the policy's name
            // and conditions are for administrators to look up.
            return Err(EntraError {
                error: "invalid_grant",
                code: 53003,
                description: "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.".to_owned(),
                suberror: Some("message_only"),
            });
        }
        let Some(code) = self.codes.iter_mut().find(|c| c.device_code == device_code) else {
            return Err(EntraError::new(
                "bad_verification_code",
                70000,
                "The provided value for the input parameter 'device_code' is not valid.",
            ));
        };
        if !code.client_id.eq_ignore_ascii_case(client_id) {
            return Err(EntraError::new(
                "bad_verification_code",
                70000,
                "The provided value for the input parameter 'device_code' is not valid. The device code was issued to a different client.",
            ));
        }
        if code.state == CodeState::Redeemed {
            return Err(EntraError::new(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if now >= code.expires {
            return Err(EntraError::new(
                "expired_token",
                70020,
                "The provided value for the input parameter 'device_code' is not valid. This device code has expired.",
            ));
        }
        let too_soon = code
            .last_poll
            .is_some_and(|last| now.duration_since(last) < code.interval);
        code.last_poll = Some(now);
        if too_soon {
            code.interval += SLOW_DOWN_STEP;
            return Err(EntraError::new(
                "slow_down",
                70016,
                format!(
                    "OAuth 2.0 device flow error. The client is polling too often; wait at least {} seconds between requests.",
                    code.interval.as_secs()
                ),
            ));
        }
        match code.state {
            CodeState::Pending => Err(EntraError::new(
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )),
            CodeState::Declined => Err(EntraError::new(
                "authorization_declined",
                70000,
                "The user has declined to authorize the application.",
            )),
            CodeState::Approved { consent: false, .. } => Err(EntraError {
                error: "invalid_grant",
                code: 65001,
                description: format!(
                    "The user or administrator has not consented to use the application with ID '{}' named 'Presently'. Send an interactive authorization request for this user and resource.",
                    code.client_id
                ),
                suberror: Some("consent_required"),
            }),
            CodeState::Approved { user, consent: true } => {
                code.state = CodeState::Redeemed;
                let (client, scopes) = (code.client_id.clone(), code.scopes.clone());
                Ok(self.mint(user, Some(client), scopes, now))
            }
            CodeState::Redeemed => unreachable!("handled above"),
        }
    }

    /// A refresh-token grant; rotates the refresh token.
    pub fn redeem_refresh_token(
        &mut self,
        client_id: &str,
        refresh_token: &str,
        scope: Option<&str>,
        now: Instant,
    ) -> Result<Issued, EntraError> {
        if self.revoked.contains(refresh_token) {
            return Err(EntraError::new(
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
            ));
        }
        if self.spent.contains(refresh_token) {
            self.refresh_stats.reused += 1;
            return Err(EntraError::new(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity or reuse. Refresh tokens rotate: use the newest one. Send a new interactive authorization request for this user and resource.",
            ));
        }
        // App tokens come with no refresh token: a held one is a person's.
        let Some((held, user)) = self
            .refresh
            .get(refresh_token)
            .and_then(|g| Some((g.clone(), g.user?)))
        else {
            return Err(EntraError::new(
                "invalid_grant",
                9002313,
                "Invalid request. Request is malformed or invalid.",
            ));
        };
        if held
            .client_id
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case(client_id))
        {
            return Err(EntraError::new(
                "invalid_grant",
                700_005,
                "Provided refresh token was issued to a different client.",
            ));
        }
        if now >= held.expires {
            return Err(EntraError::new(
                "invalid_grant",
                700_082,
                "The refresh token has expired due to inactivity. The token was issued long ago and was inactive for 90 days.",
            ));
        }
        if let Some(permission) = &self.refresh_consent_required {
            // Checked before the token is spent: once consent is back, the
            // same refresh token works.
            return Err(EntraError {
                error: "invalid_grant",
                code: 65001,
                description: format!(
                    "The user or administrator has not consented to use the application with ID '{client_id}' named 'Presently' for the permission '{permission}'. Send an interactive authorization request for this user and resource."
                ),
                suberror: Some("consent_required"),
            });
        }
        if let Some(code) = self.refresh_interaction_required {
            // Also before the token is spent, for the same reason.
            return Err(interaction_required(code));
        }
        let mut scopes = held.scopes;
        if let Some(asked) = scope {
            let asked = grant(asked);
            // Asking for a permission that was never consented needs the user again.
            if let Some(missing) = asked
                .iter()
                .find(|s| !OIDC_SCOPES.contains(s) && !scopes.contains(s))
            {
                return Err(EntraError {
                    error: "invalid_grant",
                    code: 65001,
                    description: format!(
                        "The user or administrator has not consented to use the application with ID '{client_id}' for the permission '{missing}'. Send an interactive authorization request for this user and resource."
                    ),
                    suberror: Some("consent_required"),
                });
            }
            if !asked.is_empty() {
                let keep_offline = scopes.contains(&"offline_access");
                scopes = asked;
                if keep_offline && !scopes.contains(&"offline_access") {
                    scopes.push("offline_access");
                }
            }
        }
        self.refresh.remove(refresh_token);
        self.spent.insert(refresh_token.to_owned());
        self.refresh_stats.redeemed += 1;
        Ok(self.mint(user, Some(client_id.to_lowercase()), scopes, now))
    }

    pub fn refresh_stats(&self) -> RefreshStats {
        self.refresh_stats
    }

    /// Keeps a checked authorization request until the person answers it;
    /// the id goes into the sign-in page's form.
    pub fn start_authorization(&mut self, request: AuthorizationRequest, now: Instant) -> String {
        self.authorizations
            .retain(|a| now.saturating_duration_since(a.expires) < FORGET_AFTER);
        let id = Alphanumeric.sample_string(&mut rand::thread_rng(), 32);
        self.authorizations.push(PendingAuthorization {
            id: id.clone(),
            request,
            expires: now + AUTHORIZATION_PAGE_LIFETIME,
        });
        id
    }

    /// The request behind a sign-in page, if it can still be answered.
    pub fn authorization(
        &self,
        id: &str,
        now: Instant,
    ) -> Result<&AuthorizationRequest, AuthorizationGone> {
        let pending = self
            .authorizations
            .iter()
            .find(|a| a.id == id)
            .ok_or(AuthorizationGone::Unknown)?;
        if now >= pending.expires {
            return Err(AuthorizationGone::Expired);
        }
        Ok(&pending.request)
    }

    /// Takes the request behind a sign-in page away: it is being answered.
    pub fn finish_authorization(
        &mut self,
        id: &str,
        now: Instant,
    ) -> Result<AuthorizationRequest, AuthorizationGone> {
        self.authorization(id, now)?;
        let i = self
            .authorizations
            .iter()
            .position(|a| a.id == id)
            .ok_or(AuthorizationGone::Unknown)?;
        Ok(self.authorizations.remove(i).request)
    }

    /// The code a person's approval sends back to the client's redirect URI.
    pub fn issue_authorization_code(
        &mut self,
        request: AuthorizationRequest,
        user: usize,
        now: Instant,
    ) -> String {
        self.authorization_codes
            .retain(|c| now.saturating_duration_since(c.expires) < FORGET_AFTER);
        let code = self.minter.authorization_code();
        self.authorization_codes.push(AuthorizationCode {
            code: code.clone(),
            request,
            user,
            expires: now + AUTHORIZATION_CODE_LIFETIME,
            redeemed: false,
        });
        code
    }

    /// A token request with `grant_type=authorization_code` (RFC 6749
    /// section 4.1.3, RFC 7636 section 4.5). A failed attempt leaves the
    /// code usable, so a client may retry with the right verifier.
    pub fn redeem_authorization_code(
        &mut self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
        now: Instant,
    ) -> Result<Issued, EntraError> {
        let Some(held) = self.authorization_codes.iter_mut().find(|c| c.code == code) else {
            return Err(EntraError::new(
                "invalid_grant",
                70000,
                "The provided value for the 'code' parameter is not valid.",
            ));
        };
        if !held.request.client_id.eq_ignore_ascii_case(client_id) {
            return Err(EntraError::new(
                "invalid_grant",
                70000,
                "The provided value for the 'code' parameter is not valid. The code was issued to a different client.",
            ));
        }
        if held.redeemed {
            return Err(EntraError::new(
                "invalid_grant",
                54005,
                "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
            ));
        }
        if now >= held.expires {
            return Err(EntraError::new(
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            ));
        }
        if held.request.redirect_uri != redirect_uri {
            return Err(EntraError::new(
                "invalid_grant",
                500_112,
                format!(
                    "The reply address '{redirect_uri}' does not match the reply address '{}' provided when requesting Authorization code.",
                    held.request.redirect_uri
                ),
            ));
        }
        const MISMATCH: &str =
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.";
        match code_verifier {
            None => {
                return Err(EntraError::new(
                    "invalid_grant",
                    501_481,
                    format!("{MISMATCH} The request has no 'code_verifier'."),
                ))
            }
            Some(verifier) if pkce_challenge(verifier) != held.request.code_challenge => {
                return Err(EntraError::new("invalid_grant", 501_481, MISMATCH))
            }
            Some(_) => {}
        }
        held.redeemed = true;
        let (user, client, scopes) = (
            held.user,
            held.request.client_id.clone(),
            held.request.scopes.clone(),
        );
        Ok(self.mint(user, Some(client), scopes, now))
    }

    pub fn mint(
        &mut self,
        user: usize,
        client_id: Option<String>,
        scopes: Vec<&'static str>,
        now: Instant,
    ) -> Issued {
        if self.access.len() > 10_000 {
            self.access.retain(|_, g| g.expires > now);
        }
        let access_token =
            self.minter
                .access_token(user, client_id.as_deref(), &scopes, self.access_lifetime);
        let grant = Grant {
            user: Some(user),
            client_id,
            scopes: scopes.clone(),
            expires: now + self.access_lifetime,
        };
        let refresh_token = scopes.contains(&"offline_access").then(|| {
            let token = self.minter.refresh_token();
            self.refresh.insert(
                token.clone(),
                Grant {
                    expires: now + REFRESH_LIFETIME,
                    ..grant.clone()
                },
            );
            token
        });
        self.access.insert(access_token.clone(), grant);
        Issued {
            access_token,
            refresh_token,
            scopes,
            user,
        }
    }

    pub fn access_lifetime(&self) -> Duration {
        self.access_lifetime
    }

    /// An app's own access token (the client credentials grant), once
    /// `credentials` has checked how the app proved itself: `roles` for the
    /// application permissions consented, and no refresh token, as Entra ID
    /// gives none to an app, which can always ask again.
    pub fn mint_app(
        &mut self,
        client_id: &str,
        roles: Vec<&'static str>,
        auth: AppAuth,
        now: Instant,
    ) -> String {
        if self.access.len() > 10_000 {
            self.access.retain(|_, g| g.expires > now);
        }
        let client_id = client_id.to_lowercase();
        let access_token =
            self.minter
                .app_access_token(&client_id, &roles, auth, self.app_lifetime);
        self.access.insert(
            access_token.clone(),
            Grant {
                user: None,
                client_id: Some(client_id),
                scopes: roles,
                expires: now + self.app_lifetime,
            },
        );
        access_token
    }

    pub fn app_lifetime(&self) -> Duration {
        self.app_lifetime
    }

    /// The grant behind a bearer token, if it is known and unexpired.
    pub fn check(&self, access_token: &str, now: Instant) -> Option<&Grant> {
        self.access.get(access_token).filter(|g| now < g.expires)
    }

    pub fn revoke_all(&mut self) {
        self.access.clear();
        self.revoked
            .extend(self.refresh.drain().map(|(token, _)| token));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::directory::Directory;

    const CLIENT: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

    fn auth() -> Auth {
        let directory = Directory::generate(5, 42, "contoso.onmicrosoft.com");
        Auth::new(
            Minter::new(
                Arc::new(directory),
                uuid::Uuid::nil(),
                "http://127.0.0.1:8400",
                2_400,
                1_600,
            ),
            Duration::from_secs(3600),
            Duration::from_secs(3599),
            Duration::from_secs(900),
            Duration::from_secs(5),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn device_code_polls_follow_rfc_8628() {
        let mut a = auth();
        let t0 = Instant::now();
        let code = a.new_device_code(CLIENT, grant("User.Read offline_access"), t0);
        assert_eq!(code.user_code.len(), 9);
        let poll = |a: &mut Auth, secs: u64| {
            a.redeem_device_code(CLIENT, &code.device_code, t0 + Duration::from_secs(secs))
        };
        assert_eq!(poll(&mut a, 5).unwrap_err().error, "authorization_pending");
        assert_eq!(poll(&mut a, 8).unwrap_err().error, "slow_down");
        // Each slow_down adds 5 s, measured from the last poll: 10 s after 8 s, then 15 s after 15 s.
        assert_eq!(poll(&mut a, 15).unwrap_err().error, "slow_down");
        assert_eq!(poll(&mut a, 35).unwrap_err().error, "authorization_pending");
        a.answer(
            &code.user_code.to_lowercase(),
            Some((3, true)),
            t0 + Duration::from_secs(40),
        )
        .unwrap();
        let issued = poll(&mut a, 50).unwrap();
        assert_eq!(issued.user, 3);
        assert!(issued.refresh_token.is_some());
        assert_eq!(
            poll(&mut a, 70).unwrap_err().code,
            54005,
            "a device code works once"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn refresh_tokens_rotate_and_revoke() {
        let mut a = auth();
        let now = Instant::now();
        let first = a.mint(
            0,
            Some(CLIENT.into()),
            grant("User.Read offline_access"),
            now,
        );
        let rt1 = first.refresh_token.unwrap();
        let second = a.redeem_refresh_token(CLIENT, &rt1, None, now).unwrap();
        assert_eq!(
            a.redeem_refresh_token(CLIENT, &rt1, None, now)
                .unwrap_err()
                .code,
            70008
        );
        let rt2 = second.refresh_token.unwrap();
        assert_eq!(
            a.redeem_refresh_token("00000000-0000-0000-0000-000000000001", &rt2, None, now)
                .unwrap_err()
                .code,
            700_005
        );
        let err = a
            .redeem_refresh_token(CLIENT, &rt2, Some("Presence.Read.All"), now)
            .unwrap_err();
        assert_eq!(err.suberror, Some("consent_required"));
        assert!(a.check(&second.access_token, now).is_some());
        a.revoke_all();
        assert!(a.check(&second.access_token, now).is_none());
        assert_eq!(
            a.redeem_refresh_token(CLIENT, &rt2, None, now)
                .unwrap_err()
                .code,
            50173
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_refresh_that_needs_the_person_is_refused_as_entra_shapes_it() {
        let mut a = auth();
        let now = Instant::now();
        let issued = a.mint(
            0,
            Some(CLIENT.into()),
            grant("User.Read offline_access"),
            now,
        );
        let rt = issued.refresh_token.unwrap();
        for (code, error, suberror) in [
            (50076, "invalid_grant", Some("basic_action")),
            (53003, "invalid_grant", Some("message_only")),
            (50079, "interaction_required", None),
            (50158, "interaction_required", None),
            (50000, "interaction_required", None),
        ] {
            a.refresh_interaction_required = Some(code);
            let err = a.redeem_refresh_token(CLIENT, &rt, None, now).unwrap_err();
            assert_eq!((err.code, err.error, err.suberror), (code, error, suberror));
            assert!(!err.description.is_empty());
        }
        // Not spent: once cleared, the same refresh token works.
        a.refresh_interaction_required = None;
        assert!(a.redeem_refresh_token(CLIENT, &rt, None, now).is_ok());
        assert_eq!(a.refresh_stats().reused, 0);
    }
}
