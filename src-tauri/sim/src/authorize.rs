//! Entra ID's authorization endpoint, `/{tenant}/oauth2/v2.0/authorize`:
//! the start of the authorization code grant with PKCE (RFC 6749, RFC 7636)
//! for a native app on a loopback redirect (RFC 8252), as Microsoft's own
//! desktop tools sign in.
//!
//! `GET` checks the request and shows the sign-in page; the page `POST`s the
//! person's answer back here, and the browser is sent to the app's
//! `redirect_uri` with a `code` or an `error`. As at Entra ID, a request whose
//! client or redirect URI is wrong never goes back to that URI: the person
//! sees an error page instead, since the URI cannot be trusted.
//!
//! Stricter than Entra ID where RFC 8252 and the facts sheet advise: PKCE is
//! required, only with `S256`, and only loopback `http` redirect URIs
//! (`localhost`, `127.0.0.1`, `[::1]`, any port) are registered. `prompt` is
//! accepted and the person is always asked, as with `prompt=select_account`.

use std::net::Ipv4Addr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use tokio::time::Instant;
use url::{Host, Url};

use crate::auth::{AuthorizationGone, AuthorizationRequest, EntraError};
use crate::devicelogin::{escape, page, user_options};
use crate::entra::{check_client, field, form, missing, no_store};
use crate::state::Shared;

/// What a query value may hold unencoded: RFC 3986's unreserved characters.
/// Spaces become `%20`, which every decoder reads, rather than `+`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Where a checked request's answers go: the client's redirect URI, with its
/// `state` echoed.
struct Return<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

impl Return<'_> {
    fn with(&self, params: &[(&str, &str)]) -> Response {
        let mut location = self.redirect_uri.to_owned();
        let mut separator = match location.find('?') {
            None => Some('?'),
            Some(_) if location.ends_with(['?', '&']) => None,
            Some(_) => Some('&'),
        };
        let state = self.state.map(|s| ("state", s));
        for (name, value) in params.iter().copied().chain(state) {
            if let Some(c) = separator {
                location.push(c);
            }
            separator = Some('&');
            location.push_str(name);
            location.push('=');
            location.extend(utf8_percent_encode(value, QUERY_VALUE));
        }
        let Ok(location) = HeaderValue::from_str(&location) else {
            // Redirect URIs are checked to be visible ASCII and values are
            // percent-encoded, so this cannot happen; say so if it does.
            return error_page(&EntraError::new(
                "invalid_request",
                50011,
                "The redirect URI cannot be sent back to the browser.",
            ));
        };
        (
            StatusCode::FOUND,
            no_store(),
            [(header::LOCATION, location)],
        )
            .into_response()
    }

    fn code(&self, code: &str) -> Response {
        self.with(&[("code", code)])
    }

    fn error(&self, e: &EntraError) -> Response {
        let description = format!("AADSTS{}: {}", e.code, e.description);
        self.with(&[("error", e.error), ("error_description", &description)])
    }
}

/// Entra ID's "Sorry, but we're having trouble signing you in" page, for
/// problems that must not go back to the redirect URI.
fn error_page(e: &EntraError) -> Response {
    let body = format!(
        "<h1>Sorry, but we're having trouble signing you in.</h1>\
<p class=\"error\">AADSTS{}: {}</p>\
<p class=\"note\">Request Id: {}<br>Correlation Id: {}<br>Timestamp: {}</p>",
        e.code,
        escape(&e.description),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
    );
    (
        StatusCode::BAD_REQUEST,
        no_store(),
        Html(page("Sign in", &body)),
    )
        .into_response()
}

/// RFC 8252 section 7.3: a loopback IP literal or `localhost`, plain `http`,
/// any port and path, no fragment (RFC 6749 section 3.1.2).
fn check_redirect_uri<'a>(client_id: &str, raw: Option<&'a str>) -> Result<&'a str, EntraError> {
    let raw = raw.ok_or_else(|| missing("redirect_uri"))?;
    let loopback = Url::parse(raw).is_ok_and(|url| {
        let host = match url.host() {
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        url.scheme() == "http"
            && host
            && url.username().is_empty()
            && url.password().is_none()
            && url.fragment().is_none()
    });
    // Sent back verbatim in a Location header: visible ASCII only.
    if loopback && raw.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(raw)
    } else {
        Err(EntraError::new(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{raw}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
            ),
        ))
    }
}

/// The checks made once the redirect URI can be trusted; failures go back to it.
fn check_request(
    query: &[(String, String)],
    client_id: &str,
    redirect_uri: &str,
) -> Result<AuthorizationRequest, EntraError> {
    match field(query, "response_type") {
        None => return Err(missing("response_type")),
        Some("code") => {}
        Some(other) => {
            return Err(EntraError::new(
                "unsupported_response_type",
                700_051,
                format!("response_type '{other}' is not enabled for the application. The simulator supports only 'code'."),
            ))
        }
    }
    let scope = field(query, "scope").ok_or_else(|| missing("scope"))?;
    let Some(code_challenge) = field(query, "code_challenge") else {
        return Err(EntraError::new(
            "invalid_request",
            9_002_325,
            "Proof Key for Code Exchange is required: the request must contain a 'code_challenge' (RFC 7636).",
        ));
    };
    if field(query, "code_challenge_method") != Some("S256") {
        return Err(EntraError::new(
            "invalid_request",
            50149,
            "Invalid Code_Challenge_method parameter. Use 'S256': the simulator refuses 'plain'.",
        ));
    }
    // S256 gives 32 bytes: 43 characters of base64url.
    let well_formed = code_challenge.len() == 43
        && code_challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(EntraError::new(
            "invalid_request",
            501_491,
            "Invalid size of Code_Challenge parameter.",
        ));
    }
    Ok(AuthorizationRequest {
        client_id: client_id.to_lowercase(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: crate::scopes::grant(scope),
        state: field(query, "state").map(str::to_owned),
        code_challenge: code_challenge.to_owned(),
    })
}

/// `GET /{tenant}/oauth2/v2.0/authorize`.
pub(crate) async fn start(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let checked = check_client(&shared, &tenant, &query).and_then(|client| {
        Ok((
            client,
            check_redirect_uri(client, field(&query, "redirect_uri"))?,
        ))
    });
    let (client_id, redirect_uri) = match checked {
        Ok(c) => c,
        Err(e) => return error_page(&e),
    };
    let back = Return {
        redirect_uri,
        state: field(&query, "state"),
    };
    let request = match check_request(&query, client_id, redirect_uri) {
        Ok(r) => r,
        Err(e) => return back.error(&e),
    };
    let now = Instant::now();
    let mut st = shared.state();
    if st.auth.auto_approve {
        let code = st.auth.issue_authorization_code(request, 0, now);
        return back.code(&code);
    }
    let id = st.auth.start_authorization(request.clone(), now);
    drop(st);
    (
        StatusCode::OK,
        no_store(),
        Html(sign_in_page(&shared, &tenant, &id, &request, None)),
    )
        .into_response()
}

fn sign_in_page(
    shared: &Shared,
    tenant: &str,
    id: &str,
    request: &AuthorizationRequest,
    message: Option<&str>,
) -> String {
    let message = message
        .map(|m| format!("<p class=\"error\">{}</p>", escape(m)))
        .unwrap_or_default();
    let permissions: String = request
        .scopes
        .iter()
        .map(|s| format!("<li>{}</li>", escape(s)))
        .collect();
    let body = format!(
        "<h1>Pick an account</h1>{message}\
<p>Presently (application {client}) wants to sign you in and use these permissions:</p><ul>{permissions}</ul>\
<form method=\"post\" action=\"/{tenant}/oauth2/v2.0/authorize\">\
<input type=\"hidden\" name=\"request\" value=\"{id}\">\
<label for=\"user\">Sign in as</label><select id=\"user\" name=\"user\">{options}</select>\
<div class=\"actions\">\
<button class=\"primary\" name=\"action\" value=\"approve\">Approve</button>\
<button name=\"action\" value=\"decline\">Decline</button>\
<button name=\"action\" value=\"approve_without_consent\">Approve without consent</button>\
</div></form>\
<p class=\"note\">Your browser then goes back to the app at {redirect}. \"Approve without consent\" plays a tenant whose administrator has not consented to the app: the app then gets AADSTS65001.</p>",
        client = escape(&request.client_id),
        tenant = escape(tenant),
        id = escape(id),
        options = user_options(shared),
        redirect = escape(&request.redirect_uri),
    );
    page("Pick an account", &body)
}

fn gone_page(gone: AuthorizationGone) -> Response {
    match gone {
        AuthorizationGone::Expired => error_page(&EntraError::new(
            "invalid_request",
            50089,
            "Flow token expired. Authentication failed. Have the user try signing-in again.",
        )),
        AuthorizationGone::Unknown => (
            StatusCode::BAD_REQUEST,
            no_store(),
            Html(page(
                "Sign-in not found",
                "<h1>This sign-in is not waiting for an answer</h1><p>It was answered already, or it was never started. Start the sign-in again from the app.</p>",
            )),
        )
            .into_response(),
    }
}

/// `POST /{tenant}/oauth2/v2.0/authorize`: the sign-in page's answer.
pub(crate) async fn answer(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = form(&headers, &body);
    let Some(id) = field(&answer, "request") else {
        return gone_page(AuthorizationGone::Unknown);
    };
    let now = Instant::now();
    let mut st = shared.state();
    let request = match st.auth.authorization(id, now) {
        Ok(r) => r.clone(),
        Err(gone) => return gone_page(gone),
    };
    let retry = |message: &str| {
        (
            StatusCode::BAD_REQUEST,
            no_store(),
            Html(sign_in_page(&shared, &tenant, id, &request, Some(message))),
        )
            .into_response()
    };
    let user = match field(&answer, "user") {
        None => 0,
        Some(u) => match shared.directory.find(u) {
            Some(i) => i,
            None => return retry("Pick who you are from the list."),
        },
    };
    let action = field(&answer, "action").unwrap_or_default();
    if !matches!(action, "approve" | "decline" | "approve_without_consent") {
        return retry("Choose Approve or Decline.");
    }
    let request = match st.auth.finish_authorization(id, now) {
        Ok(r) => r,
        Err(gone) => return gone_page(gone),
    };
    let redirect_uri = request.redirect_uri.clone();
    let state = request.state.clone();
    let back = Return {
        redirect_uri: &redirect_uri,
        state: state.as_deref(),
    };
    match action {
        "approve" => {
            let code = st.auth.issue_authorization_code(request, user, now);
            back.code(&code)
        }
        "decline" => back.error(&EntraError::new(
            "access_denied",
            65004,
            "User declined to consent to access the app.",
        )),
        _ => back.error(&EntraError::new(
            "consent_required",
            65001,
            format!(
                "The user or administrator has not consented to use the application with ID '{}' named 'Presently'. Send an interactive authorization request for this user and resource.",
                request.client_id
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

    #[test]
    fn only_loopback_http_redirect_uris_are_registered() {
        for good in [
            "http://localhost",
            "http://localhost:53123/",
            "http://LOCALHOST:1/callback?x=1",
            "http://127.0.0.1:8080/auth",
            "http://[::1]:9000/",
        ] {
            assert_eq!(check_redirect_uri(CLIENT, Some(good)), Ok(good), "{good}");
        }
        for bad in [
            "https://localhost/",
            "http://127.0.0.2/",
            "http://example.com/",
            "http://localhost.example.com/",
            "http://user@localhost/",
            "http://localhost/#frag",
            "http://localhost/a b",
            "localhost:8080",
            "ms-appx-web://Microsoft.AAD.BrokerPlugin/x",
        ] {
            let e = check_redirect_uri(CLIENT, Some(bad)).unwrap_err();
            assert_eq!(e.code, 50011, "{bad}");
            assert!(e.description.contains(bad) && e.description.contains(CLIENT));
        }
        assert_eq!(check_redirect_uri(CLIENT, None).unwrap_err().code, 900_144);
    }

    #[test]
    fn answers_are_appended_to_the_redirect_uri_and_encoded() {
        let location = |uri: &str, state: Option<&str>| {
            let response = Return {
                redirect_uri: uri,
                state,
            }
            .with(&[
                ("error", "access_denied"),
                ("error_description", "A b&c=d/é"),
            ]);
            assert_eq!(response.status(), StatusCode::FOUND);
            response.headers()[header::LOCATION]
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            location("http://localhost:1/", Some("s 1")),
            "http://localhost:1/?error=access_denied&error_description=A%20b%26c%3Dd%2F%C3%A9&state=s%201"
        );
        assert_eq!(
            location("http://localhost:1/cb?app=x", None),
            "http://localhost:1/cb?app=x&error=access_denied&error_description=A%20b%26c%3Dd%2F%C3%A9"
        );
        assert!(
            location("http://localhost:1/cb?", None).starts_with("http://localhost:1/cb?error=")
        );
    }

    #[test]
    fn s256_challenges_match_rfc_7636_appendix_b() {
        assert_eq!(
            crate::auth::pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
