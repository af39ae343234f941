//! Entra ID's HTTP endpoints for the device authorization grant and the
//! token endpoint of every grant: `/{tenant}/oauth2/v2.0/devicecode` and
//! `/{tenant}/oauth2/v2.0/token` (device code, authorization code, refresh
//! token, client credentials). The authorization endpoint is in
//! `authorize`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::auth::{EntraError, Issued};
use crate::credentials::{Credential, ASSERTION_TYPE};
use crate::directory::is_guid;
use crate::log::LogDetail;
use crate::state::Shared;

pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The form fields of a request; empty unless it is sent as a form, because
/// Entra ID reads nothing else (a JSON body gets "missing parameter").
pub(crate) fn form(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Vec::new();
    }
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// Entra ID's error body, with the `AADSTS` code and trace lines in the
/// description as the real service writes them.
pub(crate) fn error_response(shared: &Shared, e: &EntraError) -> Response {
    let trace_id = uuid::Uuid::new_v4().to_string();
    let correlation_id = uuid::Uuid::new_v4().to_string();
    let timestamp = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let mut body = json!({
        "error": e.error,
        "error_description": format!(
            "AADSTS{}: {}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}",
            e.code, e.description
        ),
        "error_codes": [e.code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("{}/error?code={}", shared.base_url, e.code),
    });
    if let Some(sub) = e.suberror {
        body["suberror"] = json!(sub);
    }
    let status = if e.error == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    (status, no_store(), Json(body)).into_response()
}

pub(crate) fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store, no-cache"),
        (header::PRAGMA, "no-cache"),
    ]
}

pub(crate) fn missing(name: &str) -> EntraError {
    EntraError::new(
        "invalid_request",
        900_144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

/// The checks every endpoint makes first: tenant, then client id.
pub(crate) fn check_client<'a>(
    shared: &Shared,
    tenant: &str,
    form: &'a [(String, String)],
) -> Result<&'a str, EntraError> {
    if !shared.is_our_tenant(tenant) {
        return Err(EntraError::new(
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        ));
    }
    let client_id = field(form, "client_id").ok_or_else(|| missing("client_id"))?;
    if !is_guid(client_id) {
        return Err(EntraError::new(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.",
                shared.config.tenant_domain
            ),
        ));
    }
    Ok(client_id)
}

pub(crate) async fn devicecode(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&headers, &body);
    let client_id = match check_client(&shared, &tenant, &form) {
        Ok(c) => c,
        Err(e) => return error_response(&shared, &e),
    };
    let Some(scope) = field(&form, "scope") else {
        return error_response(&shared, &missing("scope"));
    };
    let now = Instant::now();
    let code = {
        let mut st = shared.state();
        let code = st
            .auth
            .new_device_code(client_id, crate::scopes::grant(scope), now);
        if st.auth.auto_approve {
            // A fresh code is pending and unexpired, so approval cannot fail.
            let _ = st.auth.answer(&code.user_code, Some((0, true)), now);
        }
        code
    };
    let verification_uri = format!("{}/devicelogin", shared.base_url);
    let body = json!({
        "device_code": code.device_code,
        "user_code": code.user_code,
        "verification_uri": verification_uri,
        "expires_in": shared.config.device_code_lifetime.as_secs(),
        "interval": shared.config.poll_interval.as_secs(),
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {} to authenticate.",
            code.user_code
        ),
    });
    (StatusCode::OK, no_store(), Json(body)).into_response()
}

pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form(&headers, &body);
    let grant_type = field(&form, "grant_type").map(str::to_owned);
    let mut response = redeem(&shared, &tenant, &form, grant_type.as_deref());
    response.extensions_mut().insert(LogDetail {
        ids: None,
        grant_type,
    });
    response
}

fn redeem(
    shared: &Shared,
    tenant: &str,
    form: &[(String, String)],
    grant_type: Option<&str>,
) -> Response {
    let client_id = match check_client(shared, tenant, form) {
        Ok(c) => c,
        Err(e) => return error_response(shared, &e),
    };
    let Some(grant_type) = grant_type else {
        return error_response(shared, &missing("grant_type"));
    };
    let now = Instant::now();
    if grant_type == "client_credentials" {
        return match client_credentials(shared, tenant, client_id, form, now) {
            Ok(body) => (StatusCode::OK, no_store(), Json(body)).into_response(),
            Err(e) => error_response(shared, &e),
        };
    }
    let result = match grant_type {
        DEVICE_CODE_GRANT => match field(form, "device_code") {
            None => Err(missing("device_code")),
            Some(code) => shared.state().auth.redeem_device_code(client_id, code, now),
        },
        "authorization_code" => match (field(form, "code"), field(form, "redirect_uri")) {
            (None, _) => Err(missing("code")),
            (_, None) => Err(missing("redirect_uri")),
            (Some(code), Some(redirect_uri)) => shared.state().auth.redeem_authorization_code(
                client_id,
                code,
                redirect_uri,
                field(form, "code_verifier"),
                now,
            ),
        },
        "refresh_token" => match field(form, "refresh_token") {
            None => Err(missing("refresh_token")),
            Some(token) => shared.state().auth.redeem_refresh_token(
                client_id,
                token,
                field(form, "scope"),
                now,
            ),
        },
        other => Err(EntraError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    };
    match result {
        Ok(issued) => (
            StatusCode::OK,
            no_store(),
            Json(token_body(shared, client_id, &issued)),
        )
            .into_response(),
        Err(e) => error_response(shared, &e),
    }
}

/// The client credentials grant: an app signs in as itself, proving it
/// with a secret or a certificate's signed assertion, for Graph's
/// application permissions its tenant's administrator consented to. The
/// answer has no `scope`, no refresh token and no ID token, as Entra ID's.
fn client_credentials(
    shared: &Shared,
    tenant: &str,
    client_id: &str,
    form: &[(String, String)],
    now: Instant,
) -> Result<Value, EntraError> {
    // An app acts in one tenant, which the request must name.
    if tenant.eq_ignore_ascii_case("organizations") || tenant.eq_ignore_ascii_case("common") {
        return Err(EntraError::new(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any provided credentials.",
        ));
    }
    let scope = field(form, "scope").ok_or_else(|| missing("scope"))?;
    check_app_scope(shared, scope)?;
    let credential = match (
        field(form, "client_secret"),
        field(form, "client_assertion"),
    ) {
        (Some(_), Some(_)) => {
            return Err(EntraError::new(
                "invalid_request",
                9_002_313,
                "Invalid request. Request is malformed or invalid. It carries both 'client_secret' and 'client_assertion': send one.",
            ))
        }
        (None, None) => {
            return Err(EntraError::new(
                "invalid_client",
                7_000_218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            ))
        }
        (Some(secret), None) => Credential::Secret(secret),
        (None, Some(assertion)) => match field(form, "client_assertion_type") {
            None => return Err(missing("client_assertion_type")),
            Some(ASSERTION_TYPE) => Credential::Assertion(assertion),
            Some(other) => {
                return Err(EntraError::new(
                    "invalid_request",
                    90100,
                    format!("The parameter 'client_assertion_type' is empty or not valid: '{other}'. Use '{ASSERTION_TYPE}'."),
                ))
            }
        },
    };
    // The token endpoint, in each way of naming the tenant: an assertion's `aud`.
    let audiences: Vec<String> = [
        shared.config.tenant_id.to_string(),
        shared.config.tenant_domain.clone(),
    ]
    .iter()
    .map(|t| format!("{}/{t}/oauth2/v2.0/token", shared.base_url))
    .collect();
    let wall = chrono::Utc::now().timestamp();
    let mut st = shared.state();
    let auth = st
        .apps
        .authenticate(client_id, credential, &audiences, wall)?;
    let roles = st.apps.roles(client_id);
    let access_token = st.auth.mint_app(client_id, roles, auth, now);
    let lifetime = st.auth.app_lifetime().as_secs();
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    }))
}

/// The scope of the client credentials grant: one resource's `.default`,
/// Graph's, as Entra ID requires (the application permissions come from
/// the administrator's consent, not from the request).
fn check_app_scope(shared: &Shared, scope: &str) -> Result<(), EntraError> {
    let invalid = |code, description: String| EntraError::new("invalid_scope", code, description);
    let mut resources: Vec<&str> = Vec::new();
    for s in scope.split_whitespace() {
        // ASCII lower case keeps every byte where it was.
        let Some(resource_end) = s
            .to_ascii_lowercase()
            .strip_suffix("/.default")
            .map(|r| r.len())
        else {
            return Err(invalid(
                1_002_012,
                format!("The provided value for scope {s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
            ));
        };
        match s[..resource_end].trim_end_matches('/') {
            "" => {
                return Err(invalid(
                    70011,
                    format!("The provided value for the input parameter 'scope' is not valid. The scope {s} is not valid: it names no resource, as https://graph.microsoft.com/.default does."),
                ))
            }
            r if !resources.iter().any(|known| known.eq_ignore_ascii_case(r)) => resources.push(r),
            _ => {}
        }
    }
    let is_graph = |r: &str| {
        crate::scopes::GRAPH_RESOURCES
            .iter()
            .chain(std::iter::once(&shared.base_url.as_str()))
            .any(|g| g.eq_ignore_ascii_case(r))
    };
    if let Some(other) = resources.iter().find(|r| !is_graph(r)) {
        return Err(invalid(
            70011,
            format!("The provided value for the input parameter 'scope' is not valid. The scope {other}/.default is not valid."),
        ));
    }
    if resources.len() > 1 {
        return Err(invalid(
            700_022,
            format!("The provided value for the input parameter scope is not valid because it contains more than one resource. Scope {scope} is not valid."),
        ));
    }
    Ok(())
}

fn token_body(shared: &Shared, client_id: &str, issued: &Issued) -> Value {
    let lifetime = shared.state().auth.access_lifetime().as_secs();
    let mut body = json!({
        "token_type": "Bearer",
        "scope": crate::scopes::scope_string(&issued.scopes),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": issued.access_token,
    });
    if let Some(rt) = &issued.refresh_token {
        body["refresh_token"] = json!(rt);
    }
    if issued.scopes.contains(&"openid") {
        body["id_token"] = json!(id_token(shared, client_id, issued.user, lifetime));
    }
    body
}

/// An unsigned ID token (`alg: none`): the claims a client reads to show who
/// signed in. Real ones are signed; nothing should trust this one.
fn id_token(shared: &Shared, client_id: &str, user: usize, lifetime: u64) -> String {
    let u = &shared.directory.users[user];
    let now = chrono::Utc::now().timestamp();
    let tid = shared.config.tenant_id.to_string();
    let header = json!({"typ": "JWT", "alg": "none"});
    let claims = json!({
        "aud": client_id,
        "iss": format!("{}/{tid}/v2.0", shared.base_url),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime as i64,
        "name": u.display_name,
        "oid": u.id,
        "preferred_username": u.user_principal_name,
        "sub": u.id,
        "tid": tid,
        "ver": "2.0",
    });
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string().as_bytes()),
        URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
    )
}
