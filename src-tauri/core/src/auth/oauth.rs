//! The OAuth 2.0 protocol, done by the `oauth2` crate, over Presently's own
//! HTTP client: Microsoft's error answers, read with their `suberror`, and
//! the token answers turned into a [`TokenSet`] with sane bounds.
//!
//! The HTTP client ([`Http`]) is ours so that every token request goes through
//! [`crate::http`]: no redirects, OS roots and proxies, and a size limit on
//! every answer. While a device code is being polled it also turns a busy or
//! temporarily unavailable service into a transport error, which the crate
//! answers by backing off and polling on (RFC 8628, section 3.5).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::basic::{BasicRevocationErrorResponse, BasicTokenIntrospectionResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, ClientId, DeviceAuthorizationUrl, EndpointNotSet,
    EndpointSet, ErrorResponse, HttpRequest, HttpResponse, RequestTokenError, Scope,
    StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::TokenSet;
use crate::config::Settings;
use crate::error::Error;
use crate::secret::Secret;

/// Token and error answers are small; anything past this is not one.
pub(crate) const MAX_ANSWER: usize = 64 * 1024;
/// Bounds on `expires_in` of an access token: a server value outside them is
/// taken as the nearest bound, so that no date arithmetic can overflow.
pub(crate) const MIN_TOKEN_LIFETIME: Duration = Duration::from_secs(1);
pub(crate) const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// A `Retry-After` of the sign-in service is honoured up to this long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

pub(crate) type TokenAnswer =
    oauth2::StandardTokenResponse<oauth2::EmptyExtraTokenFields, oauth2::basic::BasicTokenType>;

/// The crate's client with Microsoft's error type and the three endpoints
/// Presently uses: authorize, devicecode and token.
pub(crate) type OAuthClient = oauth2::Client<
    MicrosoftError,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A public client (no secret): the client ID goes in the request body.
pub(crate) fn client(settings: &Settings) -> OAuthClient {
    oauth2::Client::new(ClientId::new(settings.client_id.clone()))
        .set_auth_type(AuthType::RequestBody)
        .set_auth_uri(AuthUrl::from_url(settings.oauth_url("authorize")))
        .set_device_authorization_url(DeviceAuthorizationUrl::from_url(
            settings.oauth_url("devicecode"),
        ))
        .set_token_uri(TokenUrl::from_url(settings.oauth_url("token")))
}

/// The scopes of a space-separated list, as the crate takes them.
pub(crate) fn scopes(list: &str) -> impl Iterator<Item = Scope> + '_ {
    list.split_whitespace().map(|s| Scope::new(s.to_string()))
}

/// Entra ID's error answer: RFC 6749's fields plus `suberror`, which tells a
/// missing consent (`consent_required`) from a revoked sign-in, every code
/// of `error_codes`, and the trace and correlation IDs support asks for.
/// Read leniently: a field of an unexpected shape is left out rather than
/// making the whole refusal unreadable.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MicrosoftError {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub suberror: Option<String>,
    #[serde(default, deserialize_with = "lenient_codes")]
    pub error_codes: Vec<u32>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub trace_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_text")]
    pub correlation_id: Option<String>,
}

fn lenient_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// Integers, or integers written as strings; anything else is skipped.
fn lenient_codes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    let serde_json::Value::Array(items) = serde_json::Value::deserialize(d)? else {
        return Ok(Vec::new());
    };
    Ok(items
        .iter()
        .filter_map(|v| match v {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .collect())
}

impl fmt::Display for MicrosoftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error)
    }
}

impl ErrorResponse for MicrosoftError {}

/// Codes that mean "the person has to do something in the browser" when a
/// refresh token is redeemed: multi-factor authentication asked for (50074,
/// 50076) or to be set up (50079), a password to change (50055), an
/// external security challenge (50158), Conditional Access (53000 to
/// 53004). The grant itself is not revoked by any of them.
const INTERACTION_CODES: &[u32] = &[50055, 50074, 50076, 50079, 50158];
const CONDITIONAL_ACCESS_CODES: std::ops::RangeInclusive<u32> = 53000..=53004;
/// Suberrors of `invalid_grant` that Microsoft's own libraries read as
/// "interaction required".
const INTERACTION_SUBERRORS: &[&str] = &[
    "basic_action",
    "additional_action",
    "message_only",
    "user_password_expired",
];

/// A refusal from the sign-in service, whichever endpoint it came from:
/// what it said, and the codes and IDs it said it with.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// RFC 6749's `error` (`invalid_grant`, `interaction_required`, ...).
    pub error: String,
    /// `error_description` as sent, trace lines and all: for the log.
    pub description: String,
    pub suberror: Option<String>,
    /// Every code of `error_codes`, then any other `AADSTS` code the
    /// description names: answers without `error_codes` still have theirs.
    pub codes: Vec<u32>,
    /// Every trace ID the answer names: its `trace_id` field first, then
    /// the description's `Trace ID:` line where that differs (published
    /// answers disagree with themselves, and support may want either).
    pub trace_ids: Vec<String>,
    /// The same for correlation IDs.
    pub correlation_ids: Vec<String>,
}

impl From<MicrosoftError> for Refusal {
    fn from(e: MicrosoftError) -> Refusal {
        let description = e.error_description.unwrap_or_default();
        let mut codes = e.error_codes;
        for code in aadsts_codes(&description) {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        let ids = |field: Option<String>, label: &str| {
            let mut ids: Vec<String> = field.as_deref().and_then(id).into_iter().collect();
            if let Some(said) = labelled(&description, label).and_then(id) {
                if !ids.iter().any(|i| i.eq_ignore_ascii_case(&said)) {
                    ids.push(said);
                }
            }
            ids
        };
        Refusal {
            trace_ids: ids(e.trace_id, "Trace ID"),
            correlation_ids: ids(e.correlation_id, "Correlation ID"),
            error: e.error,
            suberror: e.suberror,
            codes,
            description,
        }
    }
}

impl From<oauth2::DeviceCodeErrorResponse> for Refusal {
    fn from(e: oauth2::DeviceCodeErrorResponse) -> Refusal {
        Refusal::new(e.error().as_ref(), e.error_description().cloned())
    }
}

/// The lines Microsoft appends to a description for support, which mean
/// nothing to people.
const SUPPORT_LINES: &[&str] = &["Trace ID:", "Correlation ID:", "Timestamp:"];

/// The value of a `Label: value` line of a description.
fn labelled<'a>(description: &'a str, label: &str) -> Option<&'a str> {
    description.lines().find_map(|line| {
        let (name, value) = line.trim().split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case(label)
            .then_some(value.trim())
    })
}

/// A trace or correlation ID, if it looks like one: these go to logs, so
/// nothing but a short run of letters, digits and hyphens is kept.
fn id(text: &str) -> Option<String> {
    let text = text.trim();
    let ok = (1..=64).contains(&text.len())
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    ok.then(|| text.to_string())
}

/// Every `AADSTS12345` in a description, in order.
fn aadsts_codes(description: &str) -> Vec<u32> {
    let mut codes = Vec::new();
    for (at, _) in description.match_indices("AADSTS") {
        let digits: String = description[at + 6..]
            .chars()
            .take_while(char::is_ascii_digit)
            .take(9)
            .collect();
        if let Ok(code) = digits.parse() {
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    codes
}

impl Refusal {
    /// A refusal known only by its error and description (the device code
    /// poll's, as the crate reads it; the browser's redirect): the codes
    /// and IDs come from the description.
    pub(crate) fn new(error: &str, description: Option<String>) -> Refusal {
        MicrosoftError {
            error: error.to_string(),
            error_description: description,
            suberror: None,
            error_codes: Vec::new(),
            trace_id: None,
            correlation_id: None,
        }
        .into()
    }

    /// Reads an error answer of the token endpoint, as the sign-in code
    /// reads it; `None` when the body is not one.
    pub fn read(body: &[u8]) -> Option<Refusal> {
        serde_json::from_slice::<MicrosoftError>(body)
            .ok()
            .map(Refusal::from)
    }

    /// The sentence people are shown: the description without the trace,
    /// correlation and timestamp lines, on one line, as text only (this
    /// goes to terminals and windows); the error's name when there is no
    /// description.
    pub fn summary(&self) -> String {
        let said: Vec<&str> = self
            .description
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .filter(|line| {
                !SUPPORT_LINES.iter().any(|label| {
                    line.get(..label.len())
                        .is_some_and(|start| start.eq_ignore_ascii_case(label))
                })
            })
            .collect();
        let text = if said.is_empty() {
            self.error.clone()
        } else {
            said.join(" ")
        };
        crate::text::clean_text(&text, 500)
    }

    /// The first code the service gave.
    pub fn aadsts(&self) -> Option<u32> {
        self.codes.first().copied()
    }

    pub fn is_consent_required(&self) -> bool {
        self.suberror.as_deref() == Some("consent_required")
            || self.error == "consent_required"
            || self.codes.contains(&65001)
    }

    /// Conditional Access refused the sign-in (AADSTS53000 to 53004: the
    /// policy blocks this flow, this device, or asks for what it cannot do).
    pub fn is_conditional_access(&self) -> bool {
        self.codes
            .iter()
            .any(|c| CONDITIONAL_ACCESS_CODES.contains(c))
            || self.description.contains("Conditional Access")
    }

    /// The person has to sign in again, in the browser, for the service to
    /// issue tokens: `interaction_required`, or a grant refused for
    /// multi-factor authentication, Conditional Access, an expired password
    /// or an external challenge. Not a revocation.
    pub fn needs_interaction(&self) -> bool {
        self.error == "interaction_required"
            || self
                .suberror
                .as_deref()
                .is_some_and(|s| INTERACTION_SUBERRORS.contains(&s))
            || self.codes.iter().any(|c| INTERACTION_CODES.contains(c))
            || self.is_conditional_access()
    }

    /// Why, in the person's words, for "Microsoft needs you to sign in
    /// again (...)".
    pub fn interaction_reason(&self) -> &'static str {
        let any = |codes: &[u32]| self.codes.iter().any(|c| codes.contains(c));
        if any(&[50079]) {
            "to set up multi-factor authentication"
        } else if any(&[50074, 50076]) {
            "to confirm it is you with multi-factor authentication"
        } else if any(&[50055]) || self.suberror.as_deref() == Some("user_password_expired") {
            "because your password has expired"
        } else if self.is_conditional_access() {
            "because of your organisation's Conditional Access policy"
        } else if any(&[50158]) {
            "to answer a security check"
        } else {
            "to confirm your sign-in"
        }
    }

    /// The permission a consent answer names, as Entra ID writes it:
    /// `... for the permission 'Presence.Read.All' ...`.
    pub fn permission(&self) -> Option<String> {
        let (_, rest) = self.description.split_once("permission '")?;
        let (name, _) = rest.split_once('\'')?;
        let ok = !name.is_empty()
            && name.len() <= 100
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.');
        ok.then(|| name.to_string())
    }

    /// Logs the refusal with everything support asks for (the codes, the
    /// trace and correlation IDs), which the sentence shown leaves out.
    pub(crate) fn log(&self, during: &str) {
        tracing::warn!(
            error = %crate::text::clean_text(&self.error, 100),
            suberror = %self.suberror.as_deref().map(|s| crate::text::clean_text(s, 100)).unwrap_or_default(),
            codes = ?self.codes,
            trace_id = %self.trace_ids.join(" "),
            correlation_id = %self.correlation_ids.join(" "),
            "the sign-in service refused {during}: {}",
            self.summary()
        );
    }
}

/// Why an answer did not arrive, as the crate sees it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Transport {
    #[error("{0}")]
    Network(String),
    #[error("the sign-in service sent an answer larger than {} KiB", MAX_ANSWER / 1024)]
    TooLarge,
    #[error(
        "the sign-in service answered with a redirect (HTTP {0}), which Presently does not follow"
    )]
    Redirect(u16),
    #[error("the sign-in service is busy (HTTP {0})")]
    Busy(u16),
}

/// The crate's transport: Presently's reqwest client, read with a limit.
pub(crate) struct Http {
    client: reqwest::Client,
    /// While polling a device code: busy answers become transport errors,
    /// which the crate backs off from.
    polling: bool,
    /// While polling, the last refusal that ends the poll, read in full:
    /// the crate reads device code errors with its own type, which keeps
    /// neither `error_codes`, `suberror` nor the IDs.
    refused: std::sync::Mutex<Option<Refusal>>,
}

impl Http {
    pub fn new(client: reqwest::Client) -> Http {
        Http {
            client,
            polling: false,
            refused: std::sync::Mutex::new(None),
        }
    }

    pub fn for_polling(client: reqwest::Client) -> Http {
        Http {
            polling: true,
            ..Http::new(client)
        }
    }

    /// The refusal as the service sent it, when `seen` (the crate's reading)
    /// is the last one this transport read in full; else `seen`.
    pub fn in_full(&self, seen: Refusal) -> Refusal {
        match self.refused.lock().unwrap().take() {
            Some(full) if full.error == seen.error => full,
            _ => seen,
        }
    }

    async fn send(&self, request: HttpRequest) -> std::result::Result<HttpResponse, Transport> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| Transport::Network(format!("the request could not be made ({e})")))?;
        let answer = self
            .client
            .execute(request)
            .await
            .map_err(|e| Transport::Network(network_reason(&e)))?;
        let status = answer.status();
        if status.is_redirection() {
            return Err(Transport::Redirect(status.as_u16()));
        }
        let busy = status.is_server_error() || status.as_u16() == 429;
        if self.polling && busy {
            let wait = answer
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::http::parse_retry_after(v, std::time::SystemTime::now()))
                .unwrap_or_default()
                .min(MAX_RETRY_AFTER);
            tokio::time::sleep(wait).await;
            return Err(Transport::Busy(status.as_u16()));
        }
        let headers = answer.headers().clone();
        let body = crate::http::read_limited(answer, MAX_ANSWER)
            .await
            .map_err(|e| Transport::Network(network_reason(&e)))?
            .ok_or(Transport::TooLarge)?;
        // The crate is handed text that is no JSON instead, which it refuses
        // as an answer that cannot be read. (Not a transport error: while a
        // device code is polled, the crate retries those until it expires.)
        let body = if is_json_but_no_object(&body) {
            b"(not a JSON object)".to_vec()
        } else {
            body
        };
        if self.polling && is_temporarily_unavailable(&body) {
            return Err(Transport::Busy(status.as_u16()));
        }
        if self.polling && status.is_client_error() {
            if let Some(refusal) = Refusal::read(&body)
                .filter(|r| !matches!(r.error.as_str(), "authorization_pending" | "slow_down"))
            {
                *self.refused.lock().unwrap() = Some(refusal);
            }
        }
        let mut response = HttpResponse::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }
}

/// The crate reads token, device code and error answers with serde's
/// derive, which also takes a JSON array for the promised object, field by
/// field: `["eyJ0...", "Bearer", 3600]` would be a token answer. Text that is
/// not JSON at all is left to the crate, which names where it went wrong.
fn is_json_but_no_object(body: &[u8]) -> bool {
    use serde::de::IgnoredAny;
    serde_json::from_slice::<IgnoredAny>(body).is_ok()
        && serde_json::from_slice::<crate::http::Object<IgnoredAny>>(body).is_err()
}

fn is_temporarily_unavailable(body: &[u8]) -> bool {
    Refusal::read(body).is_some_and(|e| e.error == "temporarily_unavailable")
}

fn network_reason(e: &reqwest::Error) -> String {
    // reqwest's Display can include the URL but never headers or bodies.
    if let Some(hint) = crate::http::certificate_hint(e) {
        return hint;
    }
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        format!(
            "could not connect ({})",
            std::error::Error::source(e)
                .map(|s| s.to_string())
                .unwrap_or_else(|| "no answer".into())
        )
    } else {
        e.to_string()
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = Transport;
    type Future =
        Pin<Box<dyn Future<Output = std::result::Result<HttpResponse, Transport>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// A failed token request: the service's refusal, for the caller to word,
/// or already an [`Error`] (network, unreadable answer).
pub(crate) fn refusal<TE: ErrorResponse + Into<Refusal> + 'static>(
    e: RequestTokenError<Transport, TE>,
) -> std::result::Result<Refusal, Error> {
    match e {
        RequestTokenError::ServerResponse(r) => Ok(r.into()),
        RequestTokenError::Request(Transport::Network(why)) => Err(Error::Network(format!(
            "Could not reach the sign-in service: {why}. Check your network connection."
        ))),
        RequestTokenError::Request(Transport::Busy(status)) => Err(Error::Network(format!(
            "The sign-in service is busy (HTTP {status}); try again in a minute."
        ))),
        RequestTokenError::Request(other) => Err(Error::SignInFailed(format!("{other}."))),
        // The body may hold tokens: name where it went wrong, never what it said.
        RequestTokenError::Parse(e, _body) => Err(Error::SignInFailed(format!(
            "the sign-in service sent an answer that could not be read (at `{}`).",
            e.path()
        ))),
        RequestTokenError::Other(why) => Err(Error::SignInFailed(format!(
            "the sign-in service sent an unexpected answer ({why})."
        ))),
    }
}

/// A token answer as a [`TokenSet`]. Microsoft rotates refresh tokens: a new
/// one always replaces the old; only if none came back is the old one kept.
pub(crate) fn token_set(
    answer: &TokenAnswer,
    previous_refresh: Option<&Secret>,
    now: DateTime<Utc>,
) -> TokenSet {
    let lifetime = bounded_lifetime(answer.expires_in());
    TokenSet {
        access_token: Secret::new(answer.access_token().secret().clone()),
        refresh_token: answer
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone()))
            .or_else(|| previous_refresh.cloned()),
        expires_at: now + chrono::Duration::from_std(lifetime).unwrap_or_default(),
        lifetime,
        scope: answer
            .scopes()
            .map(|s| s.iter().map(|s| decoded(s)).collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
    }
}

/// A granted scope as Graph names it. Microsoft's published token answers
/// show `scope` percent-encoded (`https%3A%2F%2Fgraph.microsoft.com%2Fmail.read`);
/// no permission's name holds a `%`, so decoding cannot change a plain one,
/// and [`super::grants`] then sees the permission.
fn decoded(scope: &str) -> String {
    percent_encoding::percent_decode_str(scope)
        .decode_utf8()
        .map(|s| s.into_owned())
        .unwrap_or_else(|_| scope.to_string())
}

/// `expires_in` within [`MIN_TOKEN_LIFETIME`] and [`MAX_TOKEN_LIFETIME`];
/// an hour, Entra ID's usual, when the answer has none.
pub(crate) fn bounded_lifetime(expires_in: Option<Duration>) -> Duration {
    expires_in
        .unwrap_or(Duration::from_secs(3600))
        .clamp(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(error: &str, description: &str, suberror: Option<&str>) -> Refusal {
        Refusal {
            suberror: suberror.map(Into::into),
            ..Refusal::new(error, Some(description.into()))
        }
    }

    #[test]
    fn microsoft_refusals_are_read_by_their_codes() {
        let blocked = refusal(
            "invalid_grant",
            "AADSTS53003: Access has been blocked by Conditional Access policies.\r\nTrace ID: 1",
            Some("message_only"),
        );
        assert_eq!(blocked.aadsts(), Some(53003));
        assert!(blocked.is_conditional_access());
        assert!(!blocked.is_consent_required());
        assert_eq!(
            blocked.summary(),
            "AADSTS53003: Access has been blocked by Conditional Access policies."
        );

        let consent = refusal(
            "invalid_grant",
            "AADSTS65001: The user or administrator has not consented to use the application with ID 'x' for the permission 'Presence.Read.All'. Send an interactive authorization request.",
            Some("consent_required"),
        );
        assert!(consent.is_consent_required());
        assert_eq!(consent.permission().as_deref(), Some("Presence.Read.All"));

        // Every code counts, and the description's IDs are kept for the log.
        let mfa = refusal(
            "invalid_grant",
            "AADSTS50126: Error validating credentials. AADSTS50076: MFA.\r\nTrace ID: t-1\r\nCorrelation ID: c-1\r\nTimestamp: 2019-01-28 17:49:58Z",
            None,
        );
        assert_eq!(mfa.codes, vec![50126, 50076]);
        assert!(mfa.needs_interaction());
        assert_eq!(
            (mfa.trace_ids.as_slice(), mfa.correlation_ids.as_slice()),
            (&["t-1".to_string()][..], &["c-1".to_string()][..])
        );
        assert_eq!(
            mfa.summary(),
            "AADSTS50126: Error validating credentials. AADSTS50076: MFA."
        );
        // An ID that is not one stays out of the log.
        let odd = Refusal::read(
            br#"{"error":"x","trace_id":"a b\u001b[2J","error_codes":"50076","correlation_id":7}"#,
        )
        .unwrap();
        assert!(odd.trace_ids.is_empty() && odd.correlation_ids.is_empty());
        assert!(odd.codes.is_empty());

        let bare = refusal("invalid_grant", "", None);
        assert_eq!(bare.summary(), "invalid_grant");
        assert_eq!(bare.aadsts(), None);
        assert!(!bare.is_conditional_access());
    }

    /// A subscriber that writes every event's fields into a string.
    #[derive(Default, Clone)]
    struct Captured(std::sync::Arc<std::sync::Mutex<String>>);

    impl tracing::field::Visit for Captured {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
            let line = format!("{}={value:?}\n", field.name());
            self.0.lock().unwrap().push_str(&line);
        }
    }

    impl tracing::Subscriber for Captured {
        fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            event.record(&mut self.clone());
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    /// What support asks for goes to the log, though not to the sentence.
    #[test]
    fn a_refusal_is_logged_with_its_codes_and_ids() {
        let refusal = Refusal::read(
            br#"{"error":"invalid_grant","error_description":"AADSTS50076: MFA needed.\r\nTrace ID: 1111aaaa-0000-0000-0000-000000000000\r\nCorrelation ID: 2222bbbb-0000-0000-0000-000000000000\r\nTimestamp: 2019-01-28 17:49:58Z","error_codes":[50076,50079],"suberror":"basic_action","trace_id":"3333cccc-0000-0000-0000-000000000000","correlation_id":"2222bbbb-0000-0000-0000-000000000000"}"#,
        )
        .unwrap();
        let log = Captured::default();
        tracing::subscriber::with_default(log.clone(), || refusal.log("to renew the sign-in"));
        let log = log.0.lock().unwrap().clone();
        for wanted in [
            "3333cccc-0000-0000-0000-000000000000",
            "1111aaaa-0000-0000-0000-000000000000",
            "2222bbbb-0000-0000-0000-000000000000",
            "[50076, 50079]",
            "basic_action",
            "AADSTS50076: MFA needed.",
        ] {
            assert!(log.contains(wanted), "{wanted} in {log}");
        }
        assert!(!log.contains("Timestamp"), "{log}");
        assert!(!refusal.summary().contains("Trace ID"));
    }

    #[test]
    fn a_hostile_description_loses_its_escape_sequences() {
        let r = refusal("x", "\u{1b}]0;owned\u{7}AADSTS1: bad\u{1b}[2J", None);
        assert!(
            !r.summary().chars().any(char::is_control),
            "{:?}",
            r.summary()
        );
    }

    #[test]
    fn temporarily_unavailable_is_told_from_other_refusals() {
        assert!(is_temporarily_unavailable(
            br#"{"error":"temporarily_unavailable","error_description":"AADSTS1: busy"}"#
        ));
        for other in [
            &br#"{"error":"authorization_pending"}"#[..],
            br#"{"error":"invalid_grant"}"#,
            b"not json",
            b"",
        ] {
            assert!(!is_temporarily_unavailable(other));
        }
    }

    #[test]
    fn token_lifetimes_from_the_server_are_bounded() {
        for (given, expected) in [
            (None, Duration::from_secs(3600)),
            (Some(Duration::ZERO), MIN_TOKEN_LIFETIME),
            (Some(Duration::from_secs(1)), MIN_TOKEN_LIFETIME),
            (Some(Duration::from_secs(3599)), Duration::from_secs(3599)),
            (Some(Duration::from_secs(u64::MAX)), MAX_TOKEN_LIFETIME),
            (Some(Duration::MAX), MAX_TOKEN_LIFETIME),
        ] {
            assert_eq!(bounded_lifetime(given), expected, "{given:?}");
        }
    }

    #[test]
    fn extreme_token_answers_parse_or_fail_without_panicking() {
        let now = Utc::now();
        for body in [
            r#"{"access_token":"a","token_type":"Bearer","expires_in":18446744073709551615}"#,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":0}"#,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":-5}"#,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#,
            r#"{"access_token":"a","token_type":"Bearer","expires_in":1e308}"#,
            r#"{"access_token":"a","token_type":"Bearer"}"#,
        ] {
            if let Ok(answer) = serde_json::from_str::<TokenAnswer>(body) {
                let set = token_set(&answer, None, now);
                assert!(set.lifetime >= MIN_TOKEN_LIFETIME && set.lifetime <= MAX_TOKEN_LIFETIME);
                assert!(set.expires_at > now);
            }
        }
    }

    /// A token answer of exactly `size` bytes.
    fn token_answer(size: usize) -> Vec<u8> {
        let frame = r#"{"access_token":"","token_type":"Bearer","expires_in":3600}"#;
        let token = "a".repeat(size - frame.len());
        let body =
            format!(r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3600}}"#);
        assert_eq!(body.len(), size);
        body.into_bytes()
    }

    fn post(url: &str) -> HttpRequest {
        oauth2::http::Request::builder()
            .method("POST")
            .uri(format!("{url}/organizations/oauth2/v2.0/token"))
            .body(Vec::new())
            .unwrap()
    }

    /// An answer one byte past 64 KiB is not read, and is said to be too
    /// large, whether its length was announced or not; one of exactly 64 KiB
    /// is read; and the same transport goes on answering afterwards.
    #[tokio::test]
    async fn answers_past_64_kib_are_refused_as_too_large() {
        for sized in [true, false] {
            let url = crate::http::canned::service(
                vec![(
                    "/token",
                    vec![
                        (200, token_answer(MAX_ANSWER + 1)),
                        (200, token_answer(MAX_ANSWER)),
                    ],
                )],
                sized,
            )
            .await;
            let http = Http::new(crate::http::default_client(&url.parse().unwrap()).unwrap());
            let e = http.send(post(&url)).await.unwrap_err();
            assert!(matches!(e, Transport::TooLarge), "sized {sized}: {e:?}");
            let e = super::refusal::<MicrosoftError>(RequestTokenError::Request(e)).unwrap_err();
            assert!(matches!(e, Error::SignInFailed(_)), "{e:?}");
            assert!(
                e.to_string()
                    .contains("the sign-in service sent an answer larger than 64 KiB"),
                "{e}"
            );
            let answer = http.send(post(&url)).await.unwrap();
            assert_eq!(answer.body().len(), MAX_ANSWER, "sized {sized}");
        }
    }

    /// The crate reads a device code poll's refusal with its own type, which
    /// keeps only `error` and the description: the refusal is read in full
    /// all the same, so that a Conditional Access code that is not the
    /// first of `error_codes` still names the browser as the way in.
    #[tokio::test(start_paused = true)]
    async fn a_device_code_refusal_is_read_with_every_code() {
        let code = device_code_answer();
        let refused = serde_json::json!({
            "error": "invalid_grant",
            "error_description": "AADSTS50126: Error validating credentials.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333\r\nCorrelation ID: aaaa0000-bb11-2222-33cc-444444dddddd\r\nTimestamp: 2019-01-28 17:49:58Z",
            "error_codes": [50126, 53003],
            "suberror": "message_only",
            "trace_id": "0000aaaa-11bb-cccc-dd22-eeeeee333333",
            "correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd",
        });
        let url = crate::http::canned::service(
            vec![
                ("/devicecode", vec![(200, code.to_string().into_bytes())]),
                ("/token", vec![(400, refused.to_string().into_bytes())]),
            ],
            true,
        )
        .await;
        let (flow, code, _dir) = device_code_flow(url).await;
        let e = tokio::time::timeout(Duration::from_secs(20), flow.wait(&code))
            .await
            .expect("the refusal ends the sign-in")
            .unwrap_err();
        assert!(matches!(e, Error::SignInBlocked(_)), "{e:?}");
        assert_eq!(
            e.detail().as_deref(),
            Some("AADSTS50126: Error validating credentials.")
        );
    }

    /// A device-code answer polled every second.
    fn device_code_answer() -> serde_json::Value {
        serde_json::json!({
            "device_code": "DAQABAAEAAAD",
            "user_code": "F7KQ2XW9P",
            "verification_uri": "https://microsoft.com/devicelogin",
            "expires_in": 900,
            "interval": 1,
            "message": "To sign in, open https://microsoft.com/devicelogin and enter F7KQ2XW9P.",
        })
    }

    /// A device-code sign-in at the service `url`, started: the flow, its
    /// code, and the config dir it lives in.
    async fn device_code_flow(
        url: String,
    ) -> (
        crate::auth::SignInFlow,
        crate::auth::DeviceCode,
        tempfile::TempDir,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::resolve(&crate::config::Overrides {
            login_url: Some(url.clone()),
            graph_url: Some(url),
            config_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        })
        .unwrap();
        let flow = crate::auth::SignInFlow::new(&settings).unwrap();
        let code = flow.start().await.unwrap();
        (flow, code, dir)
    }

    /// While a device code is polled, a token answer past the limit is one
    /// failed poll, not the end of the sign-in: the next poll signs in.
    #[tokio::test(start_paused = true)]
    async fn a_device_code_sign_in_goes_on_past_an_answer_too_large() {
        let code = device_code_answer();
        let url = crate::http::canned::service(
            vec![
                ("/devicecode", vec![(200, code.to_string().into_bytes())]),
                (
                    "/token",
                    vec![
                        (200, token_answer(MAX_ANSWER + 1)),
                        (200, token_answer(1000)),
                    ],
                ),
            ],
            false,
        )
        .await;
        let (flow, code, _dir) = device_code_flow(url).await;
        let tokens = tokio::time::timeout(Duration::from_secs(20), flow.wait(&code))
            .await
            .expect("the sign-in goes on")
            .unwrap();
        assert_eq!(tokens.access_token.expose().len(), 1000 - 59);
    }
}
