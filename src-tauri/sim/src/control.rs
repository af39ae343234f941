//! The control surface: what a test or demo may do to a running simulator,
//! as methods (used by [`crate::Sim`]) and as a JSON API under `/_sim`
//! (used by end-to-end tests and scripts). The API needs no token and is
//! never logged; it is for loopback use only.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::time::Instant;

use crate::auth::{RefreshStats, Tokens};
use crate::calendar;
use crate::error::{Result, SimError};
use crate::faults::Fault;
use crate::presence::{PresenceUpdate, SimPresence};
use crate::state::Shared;

impl Shared {
    fn user_index(&self, id_or_upn: &str) -> Result<usize> {
        self.directory
            .find(id_or_upn)
            .ok_or_else(|| SimError::UnknownUser(id_or_upn.to_owned()))
    }

    pub fn presence_of(&self, id: &str) -> Option<SimPresence> {
        let i = self.directory.find(id)?;
        Some(self.state().presence.snapshot(i))
    }

    pub fn set_presence(&self, id: &str, update: &PresenceUpdate) -> Result<()> {
        let i = self.user_index(id)?;
        self.state().presence.set(i, update)
    }

    /// With `html`, the status message is served as `contentType: html`.
    pub fn set_presence_typed(&self, id: &str, update: &PresenceUpdate, html: bool) -> Result<()> {
        let i = self.user_index(id)?;
        self.state().presence.set_typed(i, update, html)
    }

    pub fn pending_codes(&self) -> Vec<String> {
        self.state().auth.pending_codes(Instant::now())
    }

    pub fn approve(&self, user_code: &str, as_user: Option<&str>, consent: bool) -> Result<()> {
        let user = as_user
            .map(|u| self.user_index(u))
            .transpose()?
            .unwrap_or(0);
        self.state()
            .auth
            .answer(user_code, Some((user, consent)), Instant::now())
    }

    pub fn decline(&self, user_code: &str) -> Result<()> {
        self.state().auth.answer(user_code, None, Instant::now())
    }

    pub fn revoke_all(&self) {
        self.state().auth.revoke_all();
    }

    pub fn set_auto_approve(&self, enabled: bool) {
        self.state().auth.auto_approve = enabled;
    }

    pub fn set_device_code_blocked(&self, blocked: bool) {
        self.state().auth.device_code_blocked = blocked;
    }

    pub fn set_refresh_consent_required(&self, permission: Option<String>) {
        self.state().auth.refresh_consent_required = permission;
    }

    pub fn set_refresh_interaction_required(&self, code: Option<u32>) {
        self.state().auth.refresh_interaction_required = code;
    }

    pub fn refresh_stats(&self) -> RefreshStats {
        self.state().auth.refresh_stats()
    }

    pub fn issue_tokens(&self, user: &str, scopes: &str) -> Result<Tokens> {
        let i = self.user_index(user)?;
        let mut granted = crate::scopes::grant(scopes);
        // A test asking for tokens wants a refresh token too.
        if !granted.contains(&"offline_access") {
            granted.push("offline_access");
        }
        let issued = self.state().auth.mint(i, None, granted, Instant::now());
        Ok(Tokens {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token.unwrap_or_default(),
            expires_in: self.config.access_token_lifetime.as_secs(),
        })
    }

    pub fn add_app_secret(&self, client_id: &str) -> Result<String> {
        self.state().apps.add_secret(client_id)
    }

    pub fn add_app_certificate(&self, client_id: &str, pem: &str) -> Result<String> {
        self.state().apps.add_certificate(client_id, pem)
    }

    pub fn set_admin_consent(&self, client_id: &str, permissions: &[&str]) -> Result<()> {
        self.state().apps.set_consent(client_id, permissions)
    }

    pub fn inject(&self, fault: Fault) {
        self.state().faults.inject(fault);
    }

    pub fn clear_faults(&self) {
        self.state().faults.clear();
    }

    pub fn set_presence_available(&self, available: bool) {
        self.state().presence_available = available;
    }

    /// Plays `minutes` of the simulated day at once: everyone's automatic
    /// changes, and the expiry of what people set for themselves.
    pub fn advance(&self, minutes: u32) -> Result<usize> {
        if minutes > MAX_ADVANCE_MINUTES {
            return Err(SimError::InvalidPresence(format!(
                "advance at most {MAX_ADVANCE_MINUTES} minutes at once, not {minutes}"
            )));
        }
        let mut st = self.state();
        Ok((0..minutes).map(|_| st.presence.tick()).sum())
    }

    /// What the simulated clock reads now, as wall time.
    pub fn clock(&self) -> chrono::DateTime<chrono::Utc> {
        let st = self.state();
        st.presence.time_at(st.presence.minute())
    }

    pub fn hide_schedule(&self, id_or_upn: &str, hidden: bool) -> Result<()> {
        let i = self.user_index(id_or_upn)?;
        self.state().presence.set_schedule_hidden(i, hidden);
        Ok(())
    }

    pub fn set_working_hours(
        &self,
        id_or_upn: &str,
        days: &[&str],
        start: &str,
        end: &str,
        time_zone: Option<&str>,
    ) -> Result<()> {
        let i = self.user_index(id_or_upn)?;
        let invalid = |m: String| SimError::InvalidWorkingHours(m);
        let days = calendar::parse_days(days)
            .map_err(|d| invalid(format!("'{d}' is not a day of the week, e.g. \"monday\"")))?;
        let time = |t: &str| {
            calendar::parse_time_of_day(t).ok_or_else(|| {
                invalid(format!(
                    "'{t}' is not a time of day such as \"08:30\" or \"08:30:00\""
                ))
            })
        };
        let (start, end) = (time(start)?, time(end)?);
        if start >= end {
            return Err(invalid(format!(
                "they end ({}) before they start ({})",
                calendar::time_of_day(end),
                calendar::time_of_day(start)
            )));
        }
        let time_zone = match time_zone.map(str::trim) {
            Some("") => return Err(invalid("the time zone's name is empty".to_owned())),
            other => other.map(str::to_owned),
        };
        self.state()
            .presence
            .set_working_hours(i, days, start, end, time_zone);
        Ok(())
    }

    pub fn set_photo_size(&self, id_or_upn: &str, bytes: Option<usize>) -> Result<()> {
        let i = self.user_index(id_or_upn)?;
        let mut st = self.state();
        match bytes {
            Some(n) => st.photo_sizes.insert(i, n),
            None => st.photo_sizes.remove(&i),
        };
        Ok(())
    }
}

/// Eight simulated days: past any expiry Graph applies by default (seven
/// days), and a bound on how long one call holds the state.
pub const MAX_ADVANCE_MINUTES: u32 = 8 * 24 * 60;

/// Routes under `/_sim`.
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sim", get(index))
        .route("/_sim/users", get(users))
        .route("/_sim/codes", get(codes))
        .route("/_sim/presence", post(set_presence))
        .route("/_sim/presence/{id}", get(presence))
        .route("/_sim/approve", post(approve))
        .route(
            "/_sim/approve_without_consent",
            post(approve_without_consent),
        )
        .route("/_sim/decline", post(decline))
        .route("/_sim/revoke", post(revoke))
        .route("/_sim/tokens", post(tokens))
        .route("/_sim/app_secret", post(app_secret))
        .route("/_sim/app_certificate", post(app_certificate))
        .route("/_sim/admin_consent", post(admin_consent))
        .route("/_sim/faults", post(inject).delete(clear_faults))
        .route("/_sim/presence_available", post(presence_available))
        .route("/_sim/advance", post(advance))
        .route("/_sim/clock", get(clock))
        .route("/_sim/hide_schedule", post(hide_schedule))
        .route("/_sim/working_hours", post(working_hours))
        .route("/_sim/log", get(log).delete(clear_log))
        .route("/_sim/auto_approve", post(auto_approve))
        .route("/_sim/block_device_code", post(block_device_code))
        .route(
            "/_sim/refresh_consent_required",
            post(refresh_consent_required),
        )
        .route("/_sim/refresh_stats", get(refresh_stats))
        .route("/_sim/ca_certificate", get(ca_certificate))
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

/// A control call the simulator refused: its message, as every 400 has,
/// and its code.
fn refused(e: SimError) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": e.to_string(), "code": e.code() })),
    )
        .into_response()
}

fn ok() -> Response {
    Json(json!({ "ok": true })).into_response()
}

fn done(result: Result<()>) -> Response {
    match result {
        Ok(()) => ok(),
        Err(e) => refused(e),
    }
}

/// Reads a JSON body with a message that says what was wrong and where.
fn parse<T: DeserializeOwned>(endpoint: &str, body: &[u8]) -> std::result::Result<T, String> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body for {endpoint}: {e}"))
}

async fn index() -> Json<Value> {
    Json(json!({
        "endpoints": [
            "GET /_sim/users",
            "GET /_sim/codes",
            "GET /_sim/presence/{id}",
            "POST /_sim/presence {\"id\",\"availability\",\"activity\",\"statusMessage\"?,\"statusMessageContentType\"?: \"text\" or \"html\",\"outOfOffice\"?}",
            "POST /_sim/approve {\"user_code\",\"user\"?}",
            "POST /_sim/approve_without_consent {\"user_code\"}",
            "POST /_sim/decline {\"user_code\"}",
            "POST /_sim/revoke {}",
            "POST /_sim/tokens {\"user\",\"scopes\"}",
            "POST /_sim/app_secret {\"client_id\"} (answers {\"secret\"})",
            "POST /_sim/app_certificate {\"client_id\",\"certificate\": PEM} (answers {\"thumbprint\"})",
            "POST /_sim/admin_consent {\"client_id\",\"permissions\": [\"Presence.Read.All\", ...]}",
            "POST /_sim/faults {\"kind\":\"status\"|\"slow\"|\"malformed\"|\"drop\"|\"redirect\"|\"answer\",\"status\"?,\"retry_after\"?,\"delay_ms\"?,\"location\"?,\"headers\"?,\"body\"?,\"path\"?,\"count\"?}",
            "DELETE /_sim/faults",
            "POST /_sim/presence_available {\"available\"}",
            "POST /_sim/advance {\"minutes\"}",
            "GET /_sim/clock (the simulated clock's wall time)",
            "POST /_sim/hide_schedule {\"id\",\"hidden\"}",
            "POST /_sim/working_hours {\"id\",\"daysOfWeek\",\"startTime\",\"endTime\",\"timeZone\"?}",
            "GET /_sim/log",
            "DELETE /_sim/log",
            "POST /_sim/auto_approve {\"enabled\"}",
            "POST /_sim/block_device_code {\"blocked\"}",
            "POST /_sim/refresh_consent_required {\"permission\": \"Presence.Read.All\" | null}",
            "GET /_sim/refresh_stats",
            "GET /_sim/ca_certificate (PEM; 404 without TLS)",
        ]
    }))
}

async fn users(State(shared): State<Arc<Shared>>) -> Response {
    Json(&shared.directory.users).into_response()
}

async fn codes(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.pending_codes()).into_response()
}

async fn presence(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.presence_of(&id) {
        Some(p) => Json(p).into_response(),
        None => refused(SimError::UnknownUser(id)),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PresenceBody {
    id: String,
    availability: String,
    activity: String,
    #[serde(default, alias = "status_message")]
    status_message: Option<String>,
    #[serde(default, alias = "out_of_office")]
    out_of_office: Option<String>,
    /// `text` (the default) or `html`: how Graph types the status message.
    #[serde(default, alias = "status_message_content_type")]
    status_message_content_type: Option<String>,
}

async fn set_presence(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let b: PresenceBody = match parse("POST /_sim/presence", &body) {
        Ok(b) => b,
        Err(message) => return bad_request(message),
    };
    let html = match b.status_message_content_type.as_deref() {
        None | Some("text") => false,
        Some("html") => true,
        Some(other) => {
            return bad_request(format!(
                "statusMessageContentType must be \"text\" or \"html\", not {other:?}"
            ))
        }
    };
    let update = PresenceUpdate {
        availability: b.availability,
        activity: b.activity,
        status_message: b.status_message,
        out_of_office: b.out_of_office,
    };
    match shared.set_presence_typed(&b.id, &update, html) {
        Ok(()) => Json(shared.presence_of(&b.id)).into_response(),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    #[serde(alias = "userCode", alias = "code")]
    user_code: String,
    #[serde(default)]
    user: Option<String>,
}

async fn approve(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<CodeBody>("POST /_sim/approve", &body) {
        Ok(b) => done(shared.approve(&b.user_code, b.user.as_deref(), true)),
        Err(message) => bad_request(message),
    }
}

async fn approve_without_consent(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<CodeBody>("POST /_sim/approve_without_consent", &body) {
        Ok(b) => done(shared.approve(&b.user_code, b.user.as_deref(), false)),
        Err(message) => bad_request(message),
    }
}

async fn decline(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<CodeBody>("POST /_sim/decline", &body) {
        Ok(b) if b.user.is_some() => bad_request("POST /_sim/decline takes no 'user'"),
        Ok(b) => done(shared.decline(&b.user_code)),
        Err(message) => bad_request(message),
    }
}

async fn revoke(State(shared): State<Arc<Shared>>) -> Response {
    shared.revoke_all();
    ok()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensBody {
    user: String,
    scopes: String,
}

async fn tokens(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let b: TokensBody = match parse("POST /_sim/tokens", &body) {
        Ok(b) => b,
        Err(message) => return bad_request(message),
    };
    match shared.issue_tokens(&b.user, &b.scopes) {
        Ok(t) => Json(t).into_response(),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppBody {
    #[serde(alias = "clientId")]
    client_id: String,
}

async fn app_secret(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<AppBody>("POST /_sim/app_secret", &body) {
        Ok(b) => match shared.add_app_secret(&b.client_id) {
            Ok(secret) => Json(json!({ "secret": secret })).into_response(),
            Err(e) => refused(e),
        },
        Err(message) => bad_request(message),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateBody {
    #[serde(alias = "clientId")]
    client_id: String,
    /// PEM, the certificate alone.
    certificate: String,
}

async fn app_certificate(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<CertificateBody>("POST /_sim/app_certificate", &body) {
        Ok(b) => match shared.add_app_certificate(&b.client_id, &b.certificate) {
            Ok(thumbprint) => Json(json!({ "thumbprint": thumbprint })).into_response(),
            Err(e) => refused(e),
        },
        Err(message) => bad_request(message),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentGrantBody {
    #[serde(alias = "clientId")]
    client_id: String,
    permissions: Vec<String>,
}

async fn admin_consent(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<ConsentGrantBody>("POST /_sim/admin_consent", &body) {
        Ok(b) => {
            let permissions: Vec<&str> = b.permissions.iter().map(String::as_str).collect();
            done(shared.set_admin_consent(&b.client_id, &permissions))
        }
        Err(message) => bad_request(message),
    }
}

async fn inject(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<Fault>("POST /_sim/faults", &body) {
        Ok(fault) => {
            shared.inject(fault);
            ok()
        }
        Err(message) => bad_request(message),
    }
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> Response {
    shared.clear_faults();
    ok()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AvailableBody {
    available: bool,
}

async fn presence_available(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<AvailableBody>("POST /_sim/presence_available", &body) {
        Ok(b) => {
            shared.set_presence_available(b.available);
            ok()
        }
        Err(message) => bad_request(message),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    minutes: u32,
}

async fn advance(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<AdvanceBody>("POST /_sim/advance", &body) {
        Ok(b) => match shared.advance(b.minutes) {
            Ok(changed) => Json(json!({ "ok": true, "changed": changed })).into_response(),
            Err(e) => refused(e),
        },
        Err(message) => bad_request(message),
    }
}

async fn clock(State(shared): State<Arc<Shared>>) -> Response {
    Json(json!({
        "dateTime": shared.clock().format("%Y-%m-%dT%H:%M:%S.0000000").to_string(),
        "timeZone": "UTC",
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HideScheduleBody {
    id: String,
    hidden: bool,
}

async fn hide_schedule(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<HideScheduleBody>("POST /_sim/hide_schedule", &body) {
        Ok(b) => done(shared.hide_schedule(&b.id, b.hidden)),
        Err(message) => bad_request(message),
    }
}

/// Graph's `workingHours` names, and the snake_case ones.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WorkingHoursBody {
    id: String,
    #[serde(alias = "days_of_week", alias = "days")]
    days_of_week: Vec<String>,
    #[serde(alias = "start_time", alias = "start")]
    start_time: String,
    #[serde(alias = "end_time", alias = "end")]
    end_time: String,
    /// A Windows or IANA zone name; left out, the person's own zone.
    #[serde(default, alias = "time_zone")]
    time_zone: Option<String>,
}

async fn working_hours(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<WorkingHoursBody>("POST /_sim/working_hours", &body) {
        Ok(b) => {
            let days: Vec<&str> = b.days_of_week.iter().map(String::as_str).collect();
            done(shared.set_working_hours(
                &b.id,
                &days,
                &b.start_time,
                &b.end_time,
                b.time_zone.as_deref(),
            ))
        }
        Err(message) => bad_request(message),
    }
}

async fn log(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.log().entries()).into_response()
}

async fn clear_log(State(shared): State<Arc<Shared>>) -> Response {
    shared.log().clear();
    ok()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AutoApproveBody {
    enabled: bool,
}

async fn auto_approve(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<AutoApproveBody>("POST /_sim/auto_approve", &body) {
        Ok(b) => {
            shared.set_auto_approve(b.enabled);
            ok()
        }
        Err(message) => bad_request(message),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockBody {
    blocked: bool,
}

async fn block_device_code(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<BlockBody>("POST /_sim/block_device_code", &body) {
        Ok(b) => {
            shared.set_device_code_blocked(b.blocked);
            ok()
        }
        Err(message) => bad_request(message),
    }
}

/// `permission` must be there, even as `null`, so that a mistyped field
/// name is an error rather than a silent "off".
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    #[serde(deserialize_with = "present")]
    permission: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

async fn refresh_consent_required(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match parse::<ConsentBody>("POST /_sim/refresh_consent_required", &body) {
        Ok(b) if b.permission.as_deref().is_some_and(|p| p.trim().is_empty()) => {
            bad_request("permission must name a permission, e.g. \"Presence.Read.All\", or be null")
        }
        Ok(b) => {
            shared.set_refresh_consent_required(b.permission);
            ok()
        }
        Err(message) => bad_request(message),
    }
}

async fn refresh_stats(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.refresh_stats()).into_response()
}

async fn ca_certificate(State(shared): State<Arc<Shared>>) -> Response {
    match &shared.ca_certificate_pem {
        Some(pem) => (
            [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
            pem.clone(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": "the simulator serves plain HTTP: there is no CA certificate" })),
        )
            .into_response(),
    }
}
