//! What the simulator's tokens look like: access tokens shaped like Entra
//! ID's JWTs (a person's, or an app's own), opaque refresh tokens and authorization codes, each as long as
//! the real ones get, so that a client meets real sizes (a keyring's limits,
//! header sizes) here first.
//!
//! Nothing reads these tokens back: the simulator keeps what each one grants
//! in `auth`, keyed by the token's text. The signature is random bytes.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::Rng;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::directory::Directory;
use crate::scopes::scope_string;

/// The characters of opaque tokens: base64url, as Entra ID's are.
const OPAQUE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/// An RS256 signature with a 2048-bit key: 256 bytes, 342 characters.
const SIGNATURE_BYTES: usize = 256;
/// Entra ID stops listing groups in a JWT at 200 (the "groups overage").
const MAX_GROUP_CLAIMS: usize = 200;
/// The shortest `aio` claim (an opaque value Entra ID always sets): the claim
/// that takes up what the other claims leave of the asked-for length.
const MIN_AIO: usize = 40;
/// Length of an authorization code; real ones are around 1 KB.
const AUTHORIZATION_CODE_CHARS: usize = 880;
/// Microsoft Graph's resource, the audience of every access token here.
const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";

/// How an app that signs in as itself proved it: a token's `appidacr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppAuth {
    Secret,
    Certificate,
}

impl AppAuth {
    fn appidacr(self) -> &'static str {
        match self {
            AppAuth::Secret => "1",
            AppAuth::Certificate => "2",
        }
    }
}

/// Writes tokens for one simulator.
#[derive(Debug)]
pub(crate) struct Minter {
    directory: Arc<Directory>,
    tenant: uuid::Uuid,
    tenant_id: String,
    /// `iss` of access tokens: the simulator's own base URL.
    issuer: String,
    /// The signing key's id in the header, the same for every token, as one
    /// key signs everything for weeks.
    key_id: String,
    access_chars: usize,
    refresh_chars: usize,
}

impl Minter {
    pub fn new(
        directory: Arc<Directory>,
        tenant_id: uuid::Uuid,
        base_url: &str,
        access_chars: usize,
        refresh_chars: usize,
    ) -> Minter {
        let tenant = tenant_id;
        let tenant_id = tenant_id.to_string();
        Minter {
            directory,
            issuer: format!("{base_url}/{tenant_id}/"),
            tenant,
            tenant_id,
            key_id: opaque(27),
            access_chars,
            refresh_chars,
        }
    }

    /// An access token for `user`: `header.claims.signature`, each part
    /// base64url, exactly `access_chars` long unless the claims need more.
    pub fn access_token(
        &self,
        user: usize,
        client_id: Option<&str>,
        scopes: &[&'static str],
        lifetime: Duration,
    ) -> String {
        let claims = self.claims(user, client_id, scopes, lifetime);
        self.write(claims, true)
    }

    /// An access token for the app `client_id` itself (the client
    /// credentials grant), as Entra ID writes one for Graph: `roles` for the
    /// application permissions consented (none when there are none),
    /// `idtyp` "app", the app's service principal as `oid` and `sub`, and no
    /// `scp`, no person, no groups. Exactly `access_chars` long, like the
    /// others, unless the claims need more.
    pub fn app_access_token(
        &self,
        client_id: &str,
        roles: &[&'static str],
        auth: AppAuth,
        lifetime: Duration,
    ) -> String {
        let now = chrono::Utc::now().timestamp();
        let exp = now + i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2);
        let principal = self.service_principal(client_id);
        let mut claims = json!({
            "aud": GRAPH_AUDIENCE,
            "iss": self.issuer,
            "iat": now,
            "nbf": now - 300,
            "exp": exp,
            "app_displayname": "Presently",
            "appid": client_id,
            "appidacr": auth.appidacr(),
            "idp": self.issuer,
            "idtyp": "app",
            "oid": principal,
            "rh": format!("1.AQ{}.", opaque(62)),
            "sub": principal,
            "tenant_region_scope": "EU",
            "tid": self.tenant_id,
            "uti": opaque(22),
            "ver": "1.0",
            "wids": ["0997a1d0-0d1d-4acb-b408-d5ca73121e90"],
            "xms_tcdt": 1_600_000_000,
        });
        if !roles.is_empty() {
            claims["roles"] = json!(roles);
        }
        match claims {
            Value::Object(map) => self.write(map, false),
            _ => unreachable!("json! of an object literal is an object"),
        }
    }

    /// The object id of the app's service principal in this tenant: the
    /// same for one app every time, different across apps and tenants.
    pub fn service_principal(&self, client_id: &str) -> String {
        let name = format!("servicePrincipal/{}", client_id.to_lowercase());
        uuid::Uuid::new_v5(&self.tenant, name.as_bytes()).to_string()
    }

    /// `header.claims.signature`, each part base64url, exactly
    /// `access_chars` long unless the claims need more; a person's token
    /// makes up the length with group ids, as a member of many groups gets.
    fn write(&self, claims: Map<String, Value>, groups: bool) -> String {
        let header = json!({
            "typ": "JWT",
            "nonce": opaque(43),
            "alg": "RS256",
            "x5t": self.key_id,
            "kid": self.key_id,
        });
        let header = URL_SAFE_NO_PAD.encode(header.to_string().as_bytes());
        // The claims part can have any length but 4n+1 (no byte string
        // encodes to that); a signature one byte longer makes up for it.
        let mut signature_bytes = SIGNATURE_BYTES;
        let room = self
            .access_chars
            .saturating_sub(header.len() + 2 + encoded_len(SIGNATURE_BYTES));
        let claims_chars = if room % 4 == 1 {
            signature_bytes += 1;
            room - 1
        } else {
            room
        };
        let claims = fill(claims, claims_chars * 3 / 4, groups);
        let mut signature = vec![0u8; signature_bytes];
        rand::thread_rng().fill(&mut signature[..]);
        format!(
            "{header}.{}.{}",
            URL_SAFE_NO_PAD.encode(claims.as_bytes()),
            URL_SAFE_NO_PAD.encode(&signature)
        )
    }

    /// The claims of a delegated Graph token (version 1.0, as Graph's are),
    /// without `aio` and `groups`, which [`fill`] adds.
    fn claims(
        &self,
        user: usize,
        client_id: Option<&str>,
        scopes: &[&'static str],
        lifetime: Duration,
    ) -> Map<String, Value> {
        let u = &self.directory.users[user];
        let now = chrono::Utc::now().timestamp();
        let exp = now + i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX / 2);
        // Tokens from `issue_tokens` belong to no client; the nil GUID says so.
        let app_id = client_id.unwrap_or("00000000-0000-0000-0000-000000000000");
        let claims = json!({
            "aud": GRAPH_AUDIENCE,
            "iss": self.issuer,
            "iat": now,
            "nbf": now - 300,
            "exp": exp,
            "acct": 0,
            "acr": "1",
            "amr": ["pwd", "mfa"],
            "app_displayname": "Presently",
            "appid": app_id,
            "appidacr": "0",
            "family_name": u.surname,
            "given_name": u.given_name,
            "idtyp": "user",
            "ipaddr": "127.0.0.1",
            "name": u.display_name,
            "oid": u.id,
            "platf": "3",
            "scp": scope_string(scopes),
            "sid": uuid::Uuid::new_v4().to_string(),
            "sub": pairwise_subject(&u.id, app_id),
            "tenant_region_scope": "EU",
            "tid": self.tenant_id,
            "unique_name": u.user_principal_name,
            "upn": u.user_principal_name,
            "uti": opaque(22),
            "ver": "1.0",
            "wids": ["b79fbf4d-3ef9-4689-8143-76b194e85509"],
            "xms_tcdt": 1_600_000_000,
        });
        match claims {
            Value::Object(map) => map,
            _ => unreachable!("json! of an object literal is an object"),
        }
    }

    /// An opaque refresh token, exactly `refresh_chars` long.
    pub fn refresh_token(&self) -> String {
        format!("1.AQ{}", opaque(self.refresh_chars.saturating_sub(4)))
    }

    /// An opaque authorization code.
    pub fn authorization_code(&self) -> String {
        format!("1.AQ{}", opaque(AUTHORIZATION_CODE_CHARS - 4))
    }
}

/// `sub` is the same for one person and one app, and different across
/// apps, as Entra ID's pairwise subject is.
fn pairwise_subject(oid: &str, app_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{oid}/{app_id}").as_bytes()))
}

/// Random characters of base64url's alphabet.
pub(crate) fn opaque(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| OPAQUE[rng.gen_range(0..OPAQUE.len())] as char)
        .collect()
}

/// Length of `bytes` bytes in base64url without padding.
fn encoded_len(bytes: usize) -> usize {
    base64::encoded_len(bytes, false).expect("a signature's length fits")
}

/// The claims as JSON of exactly `target` bytes, made up with group ids (as
/// a member of many groups gets; with `groups`) and the `aio` claim; as
/// short as they can be if `target` is too small for them.
fn fill(mut claims: Map<String, Value>, target: usize, groups: bool) -> String {
    claims.insert("aio".into(), Value::String(opaque(MIN_AIO)));
    let base = serde_json::to_string(&claims).expect("claims serialise");
    let mut spare = target.saturating_sub(base.len());
    // `,"groups":[...]` costs 11 bytes, then 39 per group id (with its comma).
    if groups && spare >= 11 + 39 {
        let groups = ((spare - 11) / 39).min(MAX_GROUP_CLAIMS);
        let ids: Vec<Value> = (0..groups)
            .map(|_| Value::String(uuid::Uuid::new_v4().to_string()))
            .collect();
        claims.insert("groups".into(), Value::Array(ids));
        spare -= 11 + 39 * groups;
    }
    claims.insert("aio".into(), Value::String(opaque(MIN_AIO + spare)));
    let text = serde_json::to_string(&claims).expect("claims serialise");
    debug_assert!(
        text.len() == target || target < base.len(),
        "claims of {} bytes for {target}",
        text.len()
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minter(access: usize, refresh: usize) -> Minter {
        let directory = Arc::new(Directory::generate(3, 42, "contoso.onmicrosoft.com"));
        Minter::new(
            directory,
            uuid::Uuid::nil(),
            "http://127.0.0.1:8400",
            access,
            refresh,
        )
    }

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
    }

    #[test]
    fn access_tokens_are_jwts_of_the_asked_length() {
        let scopes = crate::scopes::grant("User.Read Presence.Read.All openid offline_access");
        for chars in [2_400, 2_401, 2_402, 2_403, 8_192, 12_345, 64 * 1024] {
            let m = minter(chars, 1_600);
            let token = m.access_token(1, Some("client"), &scopes, Duration::from_secs(3600));
            assert_eq!(token.len(), chars);
            let parts: Vec<&str> = token.split('.').collect();
            assert_eq!(parts.len(), 3);
            let header = decode(parts[0]);
            assert_eq!(
                (header["typ"].as_str(), header["alg"].as_str()),
                (Some("JWT"), Some("RS256"))
            );
            let claims = decode(parts[1]);
            let me = &m.directory.users[1];
            assert_eq!(claims["oid"], me.id.as_str());
            assert_eq!(claims["upn"], me.user_principal_name.as_str());
            assert_eq!(claims["scp"], "User.Read Presence.Read.All openid");
            assert_eq!(claims["aud"], GRAPH_AUDIENCE);
            assert_eq!(
                claims["iss"],
                format!("http://127.0.0.1:8400/{}/", uuid::Uuid::nil())
            );
            assert_eq!(
                claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
                3600
            );
            assert!(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len() >= SIGNATURE_BYTES);
        }
    }

    #[test]
    fn the_subject_is_per_person_and_app() {
        let m = minter(2_400, 1_600);
        let sub = |user, app| {
            let token = m.access_token(user, Some(app), &["User.Read"], Duration::from_secs(60));
            decode(token.split('.').nth(1).unwrap())["sub"].clone()
        };
        assert_eq!(sub(0, "a"), sub(0, "a"));
        assert_ne!(sub(0, "a"), sub(0, "b"));
        assert_ne!(sub(0, "a"), sub(1, "a"));
    }

    #[test]
    fn a_length_too_small_for_the_claims_gets_the_shortest_token() {
        let m = minter(200, 200);
        let token = m.access_token(0, None, &["User.Read"], Duration::from_secs(60));
        assert!(token.len() > 1_000, "{}", token.len());
        assert_eq!(
            decode(token.split('.').nth(1).unwrap())["appid"],
            uuid::Uuid::nil().to_string()
        );
    }

    #[test]
    fn app_tokens_carry_roles_and_no_person() {
        for chars in [2_400, 2_401, 8_192] {
            let m = minter(chars, 1_600);
            let token = m.app_access_token(
                "client",
                &["Presence.Read.All"],
                AppAuth::Certificate,
                Duration::from_secs(3599),
            );
            assert_eq!(token.len(), chars);
            let claims = decode(token.split('.').nth(1).unwrap());
            assert_eq!(claims["roles"], json!(["Presence.Read.All"]));
            assert_eq!(
                (claims["idtyp"].as_str(), claims["appidacr"].as_str()),
                (Some("app"), Some("2"))
            );
            assert_eq!(claims["appid"], "client");
            assert_eq!(claims["oid"], m.service_principal("CLIENT").as_str());
            assert_eq!(claims["sub"], claims["oid"]);
            for absent in ["scp", "upn", "name", "groups", "family_name"] {
                assert!(claims.get(absent).is_none(), "{absent} in {claims}");
            }
            assert_eq!(
                claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
                3599
            );
        }
        let m = minter(2_400, 1_600);
        let none = m.app_access_token("client", &[], AppAuth::Secret, Duration::from_secs(60));
        let claims = decode(none.split('.').nth(1).unwrap());
        assert!(claims.get("roles").is_none(), "no consent, no roles claim");
        assert_eq!(claims["appidacr"], "1");
        assert_ne!(m.service_principal("a"), m.service_principal("b"));
    }

    #[test]
    fn opaque_tokens_have_the_asked_length_and_differ() {
        let m = minter(2_400, 4_096);
        let (a, b) = (m.refresh_token(), m.refresh_token());
        assert_eq!((a.len(), b.len()), (4_096, 4_096));
        assert!(a.starts_with("1.AQ") && a != b);
        assert!(a[2..].bytes().all(|c| OPAQUE.contains(&c)));
        assert_eq!(m.authorization_code().len(), AUTHORIZATION_CODE_CHARS);
    }
}
