//! Signing in as the app itself, for a relay that reads everyone's presence
//! with the application permission `Presence.Read.All` (admin consent): the
//! client credentials grant, with a certificate (a signed assertion, as
//! Microsoft recommends) or a client secret.
//!
//! There is no refresh token and nothing is stored: [`AppTokens`] asks
//! again before the token ends. The key and the secret stay in memory only,
//! and neither `Debug` nor any error shows them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures::future::BoxFuture;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::time::Instant;

use super::{oauth, AccessTokens, TokenSet, REFRESH_MARGIN};
use crate::config::Settings;
use crate::error::{CredentialProblem, Error, Result};
use crate::secret::Secret;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long a signed assertion is good for: one token request.
const ASSERTION_LIFETIME: i64 = 600;

/// A certificate or a key file larger than this is not one.
const MAX_PEM: u64 = 1024 * 1024;

/// What the app proves it is with.
#[derive(Clone)]
pub enum AppCredential {
    /// A certificate uploaded to the app registration, and its private key.
    Certificate(AppCertificate),
    /// A client secret of the app registration.
    Secret(Secret),
}

impl std::fmt::Debug for AppCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AppCredential::Certificate(c) => f.debug_tuple("Certificate").field(c).finish(),
            AppCredential::Secret(s) => f.debug_tuple("Secret").field(s).finish(),
        }
    }
}

/// A certificate and the RSA key that signs for it.
#[derive(Clone)]
pub struct AppCertificate {
    /// `x5t`: the base64url SHA-1 of the certificate, by which Entra ID
    /// finds it among the app's.
    x5t: String,
    /// The thumbprint as the Entra admin center shows it.
    thumbprint: String,
    key: Arc<RsaKeyPair>,
}

impl std::fmt::Debug for AppCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCertificate")
            .field("thumbprint", &self.thumbprint)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl AppCertificate {
    /// The certificate's SHA-1 thumbprint in upper-case hex, as the Entra
    /// admin center lists it under the app's certificates.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }
}

impl AppCredential {
    /// A certificate and its private key from two PEM files (they may be
    /// one file holding both).
    pub fn from_certificate_files(certificate: &Path, key: &Path) -> Result<AppCredential> {
        let cert_from = format!("the certificate file {}", certificate.display());
        let key_from = format!("the key file {}", key.display());
        let cert_pem = read_pem(certificate, &cert_from)?;
        let key_pem = Secret::new(read_pem(key, &key_from)?);
        certificate_from(&cert_pem, &cert_from, &key_pem, &key_from)
    }

    /// A certificate and its private key from PEM text.
    pub fn from_certificate_pem(certificate: &str, key: &Secret) -> Result<AppCredential> {
        certificate_from(certificate, "the certificate", key, "the private key")
    }

    /// The client secret in the environment variable `var`.
    pub fn from_secret_env(var: &str) -> Result<AppCredential> {
        secret_from(var, std::env::var(var))
    }
}

/// The secret in `var`, read as `value`.
fn secret_from(
    var: &str,
    value: std::result::Result<String, std::env::VarError>,
) -> Result<AppCredential> {
    let problem = match value {
        Ok(value) if !value.trim().is_empty() => {
            return Ok(AppCredential::Secret(Secret::new(value.trim())))
        }
        Ok(_) => CredentialProblem::SecretEmpty { var: var.into() },
        Err(std::env::VarError::NotPresent) => CredentialProblem::SecretUnset { var: var.into() },
        Err(std::env::VarError::NotUnicode(_)) => CredentialProblem::Unreadable {
            from: format!("the environment variable {var}"),
            why: "it is not text".into(),
        },
    };
    Err(Error::AppCredential(problem))
}

fn read_pem(path: &Path, from: &str) -> Result<String> {
    let unreadable = |why: String| {
        Error::AppCredential(CredentialProblem::Unreadable {
            from: from.to_owned(),
            why,
        })
    };
    let size = std::fs::metadata(path)
        .map_err(|e| unreadable(io_words(&e)))?
        .len();
    if size > MAX_PEM {
        return Err(unreadable(format!(
            "it is {} KiB, far too large for a PEM file",
            size / 1024
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(io_words(&e)))?;
    // Not UTF-8: DER or another binary; it holds no PEM block either way.
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

fn io_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "there is no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

fn certificate_from(
    cert_pem: &str,
    cert_from: &str,
    key_pem: &Secret,
    key_from: &str,
) -> Result<AppCredential> {
    let problem = |p| Error::AppCredential(p);
    let cert = CertificateDer::from_pem_slice(cert_pem.as_bytes()).map_err(|_| {
        problem(CredentialProblem::NotACertificate {
            from: cert_from.into(),
        })
    })?;
    let key = match PrivateKeyDer::from_pem_slice(key_pem.expose().as_bytes()) {
        Ok(key) => key,
        Err(_)
            if key_pem
                .expose()
                .contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") =>
        {
            return Err(problem(CredentialProblem::EncryptedKey {
                from: key_from.into(),
            }))
        }
        Err(_) => {
            return Err(problem(CredentialProblem::NoPrivateKey {
                from: key_from.into(),
            }))
        }
    };
    let pair = match &key {
        PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).ok(),
        PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()).ok(),
        // SEC1: an elliptic curve key.
        _ => None,
    }
    .ok_or_else(|| {
        problem(CredentialProblem::NotRsa {
            from: key_from.into(),
        })
    })?;
    // The certificate's SubjectPublicKeyInfo holds the key's RSAPublicKey
    // as it is: finding it there is enough to tell a key of another
    // certificate, without parsing X.509.
    let public = pair.public().as_ref();
    if !cert.windows(public.len()).any(|w| w == public) {
        return Err(problem(CredentialProblem::KeyMismatch {
            key: key_from.into(),
            certificate: cert_from.into(),
        }));
    }
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref());
    Ok(AppCredential::Certificate(AppCertificate {
        x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
        thumbprint: sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect(),
        key: Arc::new(pair),
    }))
}

/// A token of the app's, and when to ask for the next one.
struct AppToken {
    token: Secret,
    renew_at: Instant,
}

/// Access tokens of the app itself (client credentials), for the Graph
/// client: one token kept and used until a fifth of its life (at most five
/// minutes) is left, then a new one at the next request.
pub struct AppTokens {
    http: reqwest::Client,
    settings: Settings,
    credential: AppCredential,
    // A tokio mutex because it is held across the token request: requests
    // in parallel wait for one new token instead of each asking for one.
    current: tokio::sync::Mutex<Option<AppToken>>,
}

impl std::fmt::Debug for AppTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppTokens")
            .field("client_id", &self.settings.client_id)
            .field("tenant", &self.settings.tenant)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

impl AppTokens {
    /// Tokens of the app `settings.client_id` in `settings.tenant`, which
    /// must name one directory (its ID or a domain): an app acts in one
    /// tenant, never in `organizations` or `common`. Nothing is sent yet.
    pub fn new(settings: &Settings, credential: AppCredential) -> Result<Arc<AppTokens>> {
        let tenant = settings.tenant.trim();
        if ["organizations", "common", "consumers"]
            .iter()
            .any(|t| tenant.eq_ignore_ascii_case(t))
        {
            return Err(Error::Config(format!(
                "An app signs in to one tenant, and \"{tenant}\" names none: set the tenant to your directory's ID or domain (e.g. contoso.onmicrosoft.com)."
            )));
        }
        Ok(Arc::new(AppTokens {
            http: crate::http::default_client(&settings.login_url)?,
            settings: settings.clone(),
            credential,
            current: tokio::sync::Mutex::new(None),
        }))
    }

    /// The token, renewed first when it is due.
    async fn current_token(&self) -> Result<Secret> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref().filter(|t| Instant::now() < t.renew_at) {
            return Ok(t.token.clone());
        }
        let fresh = self.request().await?;
        let token = fresh.token.clone();
        *current = Some(fresh);
        Ok(token)
    }

    /// A new token now, because Graph refused `rejected`; one that another
    /// request already renewed is used as it is.
    async fn renew_after_rejection(&self, rejected: Option<Secret>) -> Result<Secret> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref() {
            if rejected.is_some_and(|r| r != t.token) {
                return Ok(t.token.clone());
            }
        }
        *current = None;
        let fresh = self.request().await?;
        let token = fresh.token.clone();
        *current = Some(fresh);
        Ok(token)
    }

    /// One client credentials grant.
    async fn request(&self) -> Result<AppToken> {
        let token_url = self.settings.oauth_url("token");
        let scope = format!("{}/.default", self.settings.cloud.graph_host());
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", self.settings.client_id.clone()),
            ("scope", scope),
        ];
        match &self.credential {
            AppCredential::Secret(secret) => {
                form.push(("client_secret", secret.expose().to_owned()));
            }
            AppCredential::Certificate(cert) => {
                form.push(("client_assertion_type", JWT_BEARER.into()));
                form.push((
                    "client_assertion",
                    assertion(cert, &self.settings.client_id, token_url.as_str())?,
                ));
            }
        }
        // Its life is counted from before the request: the token was issued
        // while the answer was on its way.
        let asked_at = Instant::now();
        let resp = self
            .http
            .post(token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| Error::network("Could not reach the sign-in service", e))?;
        let status = resp.status();
        let body = crate::http::read_limited(resp, oauth::MAX_ANSWER)
            .await
            .map_err(|e| Error::network("Could not read the sign-in service's answer", e))?
            .ok_or_else(|| {
                Error::SignInFailed("the sign-in service sent a far too large answer.".into())
            })?;
        if !status.is_success() {
            return Err(match oauth::Refusal::read(&body) {
                Some(refusal) => {
                    refusal.log("the app's sign-in");
                    Error::SignInFailed(format!(
                        "the app {} could not sign in as itself: {}",
                        self.settings.client_id,
                        refusal.summary()
                    ))
                }
                None => Error::SignInFailed(format!(
                    "the app {} could not sign in as itself: the sign-in service answered HTTP {status}.",
                    self.settings.client_id
                )),
            });
        }
        let tokens = TokenSet::from_answer(&body, chrono::Utc::now())?;
        Ok(AppToken {
            renew_at: asked_at + tokens.lifetime - renewal_margin(tokens.lifetime),
            token: tokens.access_token,
        })
    }
}

/// How long before its end a token is renewed: five minutes, or a fifth of
/// its life if that is less.
fn renewal_margin(lifetime: Duration) -> Duration {
    REFRESH_MARGIN.min(lifetime / 5)
}

/// The signed JWT that proves the app holds the certificate's key (RS256),
/// for one request to `audience`, the token endpoint.
fn assertion(cert: &AppCertificate, client_id: &str, audience: &str) -> Result<String> {
    let now = chrono::Utc::now().timestamp();
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": cert.x5t});
    let claims = serde_json::json!({
        "aud": audience,
        "iss": client_id,
        "sub": client_id,
        "jti": uuid::Uuid::new_v4().to_string(),
        "iat": now,
        "nbf": now,
        "exp": now + ASSERTION_LIFETIME,
    });
    let message = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; cert.key.public().modulus_len()];
    cert.key
        .sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            message.as_bytes(),
            &mut signature,
        )
        .map_err(|_| {
            Error::SignInFailed("the app's certificate key could not sign its sign-in.".into())
        })?;
    Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

impl AccessTokens for AppTokens {
    fn access_token(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(self.current_token())
    }

    fn token_rejected(&self) -> BoxFuture<'_, Result<Secret>> {
        Box::pin(async move {
            let rejected = self.current.lock().await.as_ref().map(|t| t.token.clone());
            self.renew_after_rejection(rejected).await
        })
    }

    fn issued_for(&self) -> Option<&url::Url> {
        Some(&self.settings.graph_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_comes_trimmed_from_a_variable_that_holds_one() {
        let read = |value| match secret_from("RELAY_SECRET", value) {
            Ok(AppCredential::Secret(s)) => Ok(s.expose().to_owned()),
            Ok(other) => panic!("{other:?}"),
            Err(Error::AppCredential(p)) => Err(p),
            Err(other) => panic!("{other:?}"),
        };
        assert_eq!(read(Ok(" abc8Q~def\n".into())), Ok("abc8Q~def".into()));
        let var = || "RELAY_SECRET".to_owned();
        assert_eq!(
            read(Ok(" \n".into())),
            Err(CredentialProblem::SecretEmpty { var: var() })
        );
        assert_eq!(
            read(Err(std::env::VarError::NotPresent)),
            Err(CredentialProblem::SecretUnset { var: var() })
        );
    }
}
