//! Entra ID's side of an app that signs in as itself (the client
//! credentials grant): the secrets and certificates registered for each
//! app, the application permissions the tenant's administrator consented
//! to, and the check of what a token request offers as proof.
//!
//! Strict where Entra ID is: a certificate proves the app with a client
//! assertion, a JWT signed RS256 or PS256 with the certificate's key, naming
//! the certificate by its thumbprint (`x5t#S256` or `x5t`), the app as its
//! `iss` and `sub`, the token endpoint as its `aud`, and carrying `exp` and
//! `jti`; it is refused outside `nbf` to `exp`, with five minutes of clock
//! skew either way, as Microsoft's identity libraries allow. Entra ID lets
//! an assertion be used again until it expires (MSAL caches them), so the
//! simulator does too.
//!
//! Secrets are kept as their SHA-256 only, so that nothing the simulator
//! prints or logs can show one.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::distributions::{Alphanumeric, DistString};
use rand::Rng;
use ring::digest::{digest, SHA1_FOR_LEGACY_USE_ONLY, SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::{Map, Value};

use crate::auth::EntraError;
use crate::directory::is_guid;
use crate::error::{Result, SimError};
use crate::scopes::{app_role, GRAPH_APP_ROLES};
use crate::tokens::AppAuth;

/// `client_assertion_type` of a JWT client assertion (RFC 7523).
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Seconds of clock skew allowed on an assertion's `exp` and `nbf`.
const SKEW_SECONDS: i64 = 300;
/// The DER of rsaEncryption's object identifier (1.2.840.113549.1.1.1):
/// Entra ID takes RSA certificates only.
const RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
const CERTIFICATE_DOCS: &str = "Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .";

/// What a token request offers to prove that it comes from the app.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Credential<'a> {
    Secret(&'a str),
    /// A signed JWT (`client_assertion`).
    Assertion(&'a str),
}

/// The apps registered in the tenant, by client id (lower case).
#[derive(Debug, Default)]
pub(crate) struct Apps {
    apps: HashMap<String, App>,
}

#[derive(Default)]
struct App {
    /// The SHA-256 of each secret.
    secrets: Vec<[u8; 32]>,
    certificates: Vec<Certificate>,
    /// Application permissions consented to, in [`GRAPH_APP_ROLES`]' order.
    roles: Vec<&'static str>,
}

impl std::fmt::Debug for App {
    // Counts and names only: nothing that could help guess a credential.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("secrets", &self.secrets.len())
            .field("certificates", &self.certificates.len())
            .field("roles", &self.roles)
            .finish()
    }
}

struct Certificate {
    der: Vec<u8>,
    /// Base64url SHA-1 of the DER, as a JWT's `x5t` names it.
    x5t: String,
    /// Base64url SHA-256 of the DER, as `x5t#S256` names it.
    x5t_s256: String,
}

fn invalid(message: impl Into<String>) -> SimError {
    SimError::InvalidAppRegistration(message.into())
}

fn client_key(client_id: &str) -> Result<String> {
    if is_guid(client_id.trim()) {
        Ok(client_id.trim().to_lowercase())
    } else {
        Err(invalid(format!(
            "the client id '{client_id}' is not a GUID, as an app's application id is"
        )))
    }
}

/// A new secret shaped like Entra ID's: 40 characters, the fourth to sixth
/// `8Q~`, the rest letters, digits and `_.~-`.
fn new_secret() -> String {
    const TAIL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-";
    let mut rng = rand::thread_rng();
    let head = Alphanumeric.sample_string(&mut rng, 3);
    let tail: String = (0..34)
        .map(|_| TAIL[rng.gen_range(0..TAIL.len())] as char)
        .collect();
    format!("{head}8Q~{tail}")
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    digest(&SHA256, bytes)
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

impl Apps {
    fn app_mut(&mut self, client_id: &str) -> Result<&mut App> {
        Ok(self.apps.entry(client_key(client_id)?).or_default())
    }

    fn app(&self, client_id: &str) -> Option<&App> {
        self.apps.get(&client_id.trim().to_lowercase())
    }

    /// Adds a client secret to the app and hands it out, once, as the
    /// portal shows it.
    pub fn add_secret(&mut self, client_id: &str) -> Result<String> {
        let app = self.app_mut(client_id)?;
        let secret = new_secret();
        app.secrets.push(sha256(secret.as_bytes()));
        Ok(secret)
    }

    /// Adds a certificate (its public part, in PEM) to the app; its SHA-1
    /// thumbprint in upper-case hex, as the portal shows it. Refuses
    /// anything but one RSA certificate, and a PEM that holds a private key,
    /// which must never leave the app.
    pub fn add_certificate(&mut self, client_id: &str, pem: &str) -> Result<String> {
        client_key(client_id)?;
        if pem.contains("PRIVATE KEY-----") {
            return Err(invalid(
                "the PEM holds a private key: register the certificate (its public part) only",
            ));
        }
        let der = CertificateDer::pem_slice_iter(pem.as_bytes())
            .next()
            .and_then(|c| c.ok())
            .ok_or_else(|| invalid("no CERTIFICATE in the PEM"))?;
        let cert = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| invalid(format!("the PEM's certificate cannot be read: {e:?}")))?;
        let spki = cert.subject_public_key_info();
        if !spki
            .as_ref()
            .windows(RSA_ENCRYPTION.len())
            .any(|w| w == RSA_ENCRYPTION)
        {
            return Err(invalid(
                "the certificate's key is not an RSA key; Entra ID takes RSA certificates only",
            ));
        }
        let der = der.as_ref().to_vec();
        let sha1 = digest(&SHA1_FOR_LEGACY_USE_ONLY, &der);
        let thumbprint: String = sha1.as_ref().iter().map(|b| format!("{b:02X}")).collect();
        let certificate = Certificate {
            x5t: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            x5t_s256: URL_SAFE_NO_PAD.encode(sha256(&der)),
            der,
        };
        let app = self.app_mut(client_id)?;
        if !app.certificates.iter().any(|c| c.x5t == certificate.x5t) {
            app.certificates.push(certificate);
        }
        Ok(thumbprint)
    }

    /// The application permissions the tenant's administrator consents to
    /// for the app, in place of those before; none withdraws consent.
    pub fn set_consent(&mut self, client_id: &str, permissions: &[&str]) -> Result<()> {
        let mut roles = Vec::new();
        for p in permissions {
            let role = app_role(p).ok_or_else(|| {
                invalid(format!(
                    "'{p}' is no application permission of Microsoft Graph that the simulator knows: {}",
                    GRAPH_APP_ROLES.join(", ")
                ))
            })?;
            roles.push(role);
        }
        roles.sort_by_key(|r| GRAPH_APP_ROLES.iter().position(|k| k == r));
        roles.dedup();
        self.app_mut(client_id)?.roles = roles;
        Ok(())
    }

    /// The application permissions consented to for the app: its tokens'
    /// `roles`. Without consent, none: Entra ID still issues a token.
    pub fn roles(&self, client_id: &str) -> Vec<&'static str> {
        self.app(client_id)
            .map(|a| a.roles.clone())
            .unwrap_or_default()
    }

    /// Checks what a token request offers as the app's proof. `audiences`
    /// are the URLs an assertion's `aud` may name (the token endpoint, in
    /// each way of naming the tenant); `now` is Unix time in seconds.
    pub fn authenticate(
        &self,
        client_id: &str,
        credential: Credential<'_>,
        audiences: &[String],
        now: i64,
    ) -> Result<AppAuth, EntraError> {
        let app = self.app(client_id);
        match credential {
            Credential::Secret(secret) => {
                let digest = sha256(secret.as_bytes());
                if app.is_some_and(|a| a.secrets.contains(&digest)) {
                    Ok(AppAuth::Secret)
                } else {
                    Err(EntraError::new(
                        "invalid_client",
                        7_000_215,
                        format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
                    ))
                }
            }
            Credential::Assertion(jwt) => {
                check_assertion(app, client_id, jwt, audiences, now).map(|()| AppAuth::Certificate)
            }
        }
    }
}

fn malformed(why: &str) -> EntraError {
    EntraError::new(
        "invalid_client",
        50027,
        format!("JWT token is invalid or malformed. {why}"),
    )
}

fn bad_signature(reason: &str) -> EntraError {
    EntraError::new(
        "invalid_client",
        700_027,
        format!("Client assertion failed signature validation. [Reason - {reason}]"),
    )
}

fn json_part(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

fn time(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S.0000000Z").to_string())
        .unwrap_or_else(|| at.to_string())
}

/// A client assertion, checked in the order a forger meets the checks:
/// its form, the certificate it names, its signature, then its claims.
fn check_assertion(
    app: Option<&App>,
    client_id: &str,
    jwt: &str,
    audiences: &[String],
    now: i64,
) -> Result<(), EntraError> {
    let parts: Vec<&str> = jwt.trim().split('.').collect();
    let [header_part, claims_part, signature_part] = parts[..] else {
        return Err(malformed(
            "A client assertion is three base64url parts: header, claims and signature.",
        ));
    };
    let (Some(header), Some(claims), Ok(signature)) = (
        json_part(header_part),
        json_part(claims_part),
        URL_SAFE_NO_PAD.decode(signature_part),
    ) else {
        return Err(malformed(
            "Its header and claims must be base64url JSON objects and its signature base64url.",
        ));
    };
    let algorithm: &dyn rustls_pki_types::SignatureVerificationAlgorithm =
        match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
            Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            other => {
                return Err(bad_signature(&format!(
                    "The algorithm {} is not supported: sign with PS256 or RS256.",
                    other.map_or("(none)".to_owned(), |a| format!("'{a}'"))
                )))
            }
        };
    let named = |key: &str| header.get(key).and_then(Value::as_str);
    let (thumbprint, certificate) = match (named("x5t#S256"), named("x5t")) {
        (Some(t), _) => (
            t,
            app.and_then(|a| a.certificates.iter().find(|c| c.x5t_s256 == t)),
        ),
        (None, Some(t)) => (
            t,
            app.and_then(|a| a.certificates.iter().find(|c| c.x5t == t)),
        ),
        (None, None) => {
            return Err(bad_signature(
                "The assertion's header names no certificate: it needs 'x5t#S256' or 'x5t'.",
            ))
        }
    };
    let Some(certificate) = certificate else {
        return Err(bad_signature(&format!(
            "The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'."
        )));
    };
    let der = CertificateDer::from(certificate.der.as_slice());
    let verified = webpki::EndEntityCert::try_from(&der).is_ok_and(|cert| {
        cert.verify_signature(
            algorithm,
            format!("{header_part}.{claims_part}").as_bytes(),
            &signature,
        )
        .is_ok()
    });
    if !verified {
        return Err(bad_signature(&format!(
            "The provided signature value did not match the expected signature value., Thumbprint of key used by client: '{thumbprint}'"
        )));
    }

    let text = |key: &str| claims.get(key).and_then(Value::as_str);
    let (Some(iss), Some(sub)) = (text("iss"), text("sub")) else {
        return Err(malformed("The assertion needs 'iss' and 'sub'."));
    };
    if iss != sub {
        return Err(EntraError::new(
            "invalid_client",
            50048,
            "Subject mismatches Issuer claim in the client assertion.",
        ));
    }
    if !iss.eq_ignore_ascii_case(client_id) {
        return Err(EntraError::new(
            "invalid_client",
            700_021,
            format!("Client assertion application identifier doesn't match 'client_id' parameter. {CERTIFICATE_DOCS}"),
        ));
    }
    let audience_ok = |a: &Value| {
        a.as_str()
            .is_some_and(|a| audiences.iter().any(|ok| ok.eq_ignore_ascii_case(a)))
    };
    let aud_ok = match claims.get("aud") {
        Some(Value::Array(list)) => list.iter().any(audience_ok),
        Some(a) => audience_ok(a),
        None => false,
    };
    if !aud_ok {
        return Err(EntraError::new(
            "invalid_client",
            700_023,
            format!(
                "Client assertion audience claim does not match Realm issuer. {CERTIFICATE_DOCS}"
            ),
        ));
    }
    let number = |key: &str| claims.get(key).and_then(Value::as_i64);
    let Some(exp) = number("exp") else {
        return Err(malformed("The assertion needs 'exp'."));
    };
    let nbf = number("nbf");
    if now >= exp + SKEW_SECONDS || nbf.is_some_and(|nbf| now < nbf - SKEW_SECONDS) {
        return Err(EntraError::new(
            "invalid_client",
            700_024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. {CERTIFICATE_DOCS}",
                time(now),
                nbf.map_or_else(|| "(not given)".to_owned(), time),
                time(exp)
            ),
        ));
    }
    if text("jti").is_none_or(|j| j.trim().is_empty()) {
        return Err(malformed("The assertion needs 'jti'."));
    }
    Ok(())
}
