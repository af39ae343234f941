//! Microsoft Graph (`/v1.0/...`): routing, permissions and the resources.
//!
//! Requests are handled synchronously on a locked [`State`], one function per
//! resource. The same [`handle`] serves a request from the network and a
//! request carried inside `$batch`, so both behave alike, throttling included.
//!
//! A person's token and an app's own token (the client credentials grant)
//! are told apart as Graph does: each request accepts the delegated or the
//! application permissions its page lists, and `/me` is nobody for an app.
//!
//! The map: this file routes, authenticates and checks permissions; each
//! resource has its file: `presence.rs`, `users.rs` (users, manager, reports,
//! people, and the paging every list uses), `groups.rs`, `photos.rs`,
//! `schedule.rs` (calendar free/busy) and `batch.rs`.

mod batch;
mod groups;
mod photos;
mod presence;
mod schedule;
mod users;

use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

use crate::auth::Grant;
use crate::directory::{is_guid, mix};
use crate::log::{Arrival, LogDetail};
use crate::png;
use crate::query::{self, Filter, Params, QueryError, Search};
use crate::state::{Shared, State};
use crate::throttle::retry_after_seconds;
use batch::batch;
use groups::{group, group_members, joined_teams, member_of};
use photos::photo;
use presence::{
    clear_preferred_presence, one_presence, presences, set_preferred_presence, set_status_message,
};
use schedule::get_schedule;
use users::{direct_reports, get_user, list_users, manager, people};

/// Most ids `getPresencesByUserId` takes in one request.
pub const MAX_PRESENCE_IDS: usize = 650;
/// Most requests one `$batch` may carry.
pub const MAX_BATCH_REQUESTS: usize = 20;
pub use schedule::MAX_SCHEDULES;

pub(crate) const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// The permissions that satisfy one kind of request, least privileged
/// first, as Graph's permission tables list them: delegated ones in a
/// person's token (`scp`), application ones in an app's own token
/// (`roles`). An empty list: Graph does not serve that kind of token there.
struct Permissions {
    delegated: &'static [&'static str],
    application: &'static [&'static str],
}

const PRESENCE_ALL: Permissions = Permissions {
    delegated: &["Presence.Read.All"],
    application: &["Presence.Read.All", "Presence.ReadWrite.All"],
};
const PRESENCE_ME: Permissions = Permissions {
    delegated: &["Presence.Read", "Presence.ReadWrite", "Presence.Read.All"],
    application: &[],
};
/// `setUserPreferredPresence` and `clearUserPreferredPresence`.
const PRESENCE_WRITE: Permissions = Permissions {
    delegated: &["Presence.ReadWrite"],
    application: &["Presence.ReadWrite.All"],
};
/// `setStatusMessage`: a person's own words, never an app's.
const STATUS_MESSAGE: Permissions = Permissions {
    delegated: &["Presence.ReadWrite"],
    application: &[],
};
const USER_ME: Permissions = Permissions {
    delegated: &[
        "User.Read",
        "User.ReadWrite",
        "User.ReadBasic.All",
        "User.Read.All",
        "Directory.Read.All",
    ],
    application: &[],
};
/// `User.ReadBasic.All` is an application permission on paper that reads
/// no user (Graph answers 403), so it is not in `application`.
const USERS: Permissions = Permissions {
    delegated: &["User.ReadBasic.All", "User.Read.All", "Directory.Read.All"],
    application: &["User.Read.All", "Directory.Read.All"],
};
const CALENDARS: Permissions = Permissions {
    delegated: &["Calendars.ReadBasic", "Calendars.Read"],
    application: &["Calendars.ReadBasic", "Calendars.Read"],
};
const PEOPLE_ME: Permissions = Permissions {
    delegated: &["People.Read", "People.Read.All"],
    application: &[],
};
const PEOPLE_OTHERS: Permissions = Permissions {
    delegated: &["People.Read.All"],
    application: &["People.Read.All"],
};
const GROUP_MEMBERS: Permissions = Permissions {
    delegated: &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
    ],
    application: &[
        "GroupMember.Read.All",
        "Group.Read.All",
        "Directory.Read.All",
    ],
};
const TEAMS: Permissions = Permissions {
    delegated: &[
        "Team.ReadBasic.All",
        "Group.Read.All",
        "Directory.Read.All",
        "User.Read.All",
    ],
    application: &[
        "Team.ReadBasic.All",
        "Group.Read.All",
        "Directory.Read.All",
        "User.Read.All",
    ],
};

impl Permissions {
    /// Whether the token carries one of the permissions of its kind.
    fn allow(&self, grant: &Grant) -> bool {
        grant.has_any(if grant.is_app() {
            self.application
        } else {
            self.delegated
        })
    }
}

/// A Graph request, from the network or from inside a `$batch`.
#[derive(Debug)]
pub(crate) struct GraphRequest<'a> {
    pub method: &'a Method,
    /// The path after `/v1.0`, still percent-encoded, e.g. `/users/abc/presence`.
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

#[derive(Debug, Clone)]
pub(crate) enum Body {
    Json(Value),
    Png(Vec<u8>),
    Empty,
}

#[derive(Debug)]
pub(crate) struct GraphResponse {
    pub status: u16,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Body,
    /// Boxed to keep `Result<_, GraphResponse>` small on the error path.
    pub detail: Box<LogDetail>,
    /// Requests served inside a `$batch`, for the log.
    pub inner: Vec<(Arrival, u16, LogDetail)>,
}

impl GraphResponse {
    fn json(status: u16, body: Value) -> GraphResponse {
        GraphResponse {
            status,
            headers: Vec::new(),
            body: Body::Json(body),
            detail: Box::default(),
            inner: Vec::new(),
        }
    }

    fn ok(body: Value) -> GraphResponse {
        GraphResponse::json(200, body)
    }

    fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> GraphResponse {
        self.headers.push((name, value.into()));
        self
    }

    pub fn content_type(&self) -> Option<&'static str> {
        match self.body {
            Body::Json(_) => Some(JSON_CONTENT_TYPE),
            Body::Png(_) => Some("image/png"),
            Body::Empty => None,
        }
    }
}

/// Graph's error shape: `{"error":{"code","message","innerError"}}`.
pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> GraphResponse {
    let request_id = uuid::Uuid::new_v4().to_string();
    GraphResponse::json(
        status,
        json!({
            "error": {
                "code": code,
                "message": message.into(),
                "innerError": {
                    "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": request_id,
                    "client-request-id": request_id,
                }
            }
        }),
    )
}

fn query_error(e: QueryError) -> GraphResponse {
    error(e.status, e.code, e.message)
}

fn forbidden() -> GraphResponse {
    error(
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
}

fn not_found(what: &str) -> GraphResponse {
    error(
        404,
        "Request_ResourceNotFound",
        format!("Resource '{what}' does not exist or one of its queried reference-property objects are not present."),
    )
}

fn unreadable_body() -> GraphResponse {
    error(
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
    )
}

fn presence_missing(segment: &str) -> GraphResponse {
    error(404, "UnknownError", format!("Resource not found for the segment '{segment}'. Presence is not available in this cloud."))
}

/// Who a path is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Who {
    Me,
    User(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PresenceAction {
    SetPreferred,
    ClearPreferred,
    SetStatusMessage,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Batch,
    Presences,
    Users,
    User(Who),
    Presence(Who),
    /// `POST .../presence/{action}`: a person setting their own status.
    PresenceAction(Who, PresenceAction),
    Manager(Who),
    DirectReports(Who),
    People(Who),
    MemberOf(Who),
    JoinedTeams(Who),
    PhotoInfo(Who),
    Photo(Who),
    Group(String),
    GroupMembers(String),
    /// `POST .../calendar/getSchedule`.
    Schedule(Who),
}

impl Route {
    /// Whom a path under `/me` or `/users/{id}` is about.
    fn who(&self) -> Option<&Who> {
        match self {
            Route::User(w)
            | Route::Presence(w)
            | Route::PresenceAction(w, _)
            | Route::Manager(w)
            | Route::DirectReports(w)
            | Route::People(w)
            | Route::MemberOf(w)
            | Route::JoinedTeams(w)
            | Route::PhotoInfo(w)
            | Route::Photo(w)
            | Route::Schedule(w) => Some(w),
            Route::Batch
            | Route::Presences
            | Route::Users
            | Route::Group(_)
            | Route::GroupMembers(_) => None,
        }
    }
}

fn route(segments: &[&str]) -> Result<(Method, Route), String> {
    let who = |s: &str| {
        if s == "me" {
            Who::Me
        } else {
            Who::User(s.to_owned())
        }
    };
    let (base, rest): (Option<Who>, &[&str]) = match segments {
        ["me", rest @ ..] => (Some(Who::Me), rest),
        ["users", id, rest @ ..] => (Some(who(id)), rest),
        _ => (None, &[]),
    };
    if let Some(w) = base {
        return Ok(match rest {
            [] => (Method::GET, Route::User(w)),
            ["presence"] => (Method::GET, Route::Presence(w)),
            ["presence", action] => {
                let action = match *action {
                    "setUserPreferredPresence" => PresenceAction::SetPreferred,
                    "clearUserPreferredPresence" => PresenceAction::ClearPreferred,
                    "setStatusMessage" => PresenceAction::SetStatusMessage,
                    other => return Err(other.to_owned()),
                };
                (Method::POST, Route::PresenceAction(w, action))
            }
            ["manager"] => (Method::GET, Route::Manager(w)),
            ["directReports"] => (Method::GET, Route::DirectReports(w)),
            ["people"] => (Method::GET, Route::People(w)),
            ["memberOf"] => (Method::GET, Route::MemberOf(w)),
            ["joinedTeams"] => (Method::GET, Route::JoinedTeams(w)),
            ["photo"] => (Method::GET, Route::PhotoInfo(w)),
            ["photo", "$value"] => (Method::GET, Route::Photo(w)),
            ["calendar", "getSchedule"] => (Method::POST, Route::Schedule(w)),
            ["calendar", other, ..] => return Err((*other).to_owned()),
            [other, ..] => return Err((*other).to_owned()),
        });
    }
    Ok(match segments {
        ["$batch"] => (Method::POST, Route::Batch),
        ["communications", "getPresencesByUserId"] => (Method::POST, Route::Presences),
        ["users"] => (Method::GET, Route::Users),
        ["groups", id] => (Method::GET, Route::Group((*id).to_owned())),
        ["groups", id, "members"] => (Method::GET, Route::GroupMembers((*id).to_owned())),
        ["communications", other, ..] | ["groups", _, other, ..] => return Err((*other).to_owned()),
        [first, ..] => return Err((*first).to_owned()),
        [] => return Err(String::new()),
    })
}

/// Everything one request needs while it is handled.
struct Ctx<'a> {
    shared: &'a Shared,
    st: &'a mut State,
    now: Instant,
    arrived: Duration,
    in_batch: bool,
}

/// Serves one Graph request on the locked state.
pub(crate) fn handle(
    shared: &Shared,
    st: &mut State,
    req: &GraphRequest<'_>,
    now: Instant,
    arrived: Duration,
    in_batch: bool,
) -> GraphResponse {
    let mut ctx = Ctx {
        shared,
        st,
        now,
        arrived,
        in_batch,
    };
    let grant = match authenticate(&ctx, req.headers) {
        Ok(g) => g,
        Err(resp) => return resp,
    };
    let decoded: Vec<String> = req
        .path
        .trim_start_matches('/')
        .split('/')
        .map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let (method, route) = match route(&segments) {
        Ok(r) => r,
        Err(segment) => {
            return error(
                400,
                "BadRequest",
                format!("Resource not found for the segment '{segment}'."),
            )
        }
    };
    if grant.is_app() && route.who() == Some(&Who::Me) {
        return me_is_delegated();
    }
    if req.method != method {
        return error(
            405,
            "Request_BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        );
    }
    let params = Params::parse(req.query);
    let result = match route {
        Route::Batch if ctx.in_batch => Err(error(
            400,
            "BadRequest",
            "A $batch request cannot contain another $batch request.",
        )),
        Route::Batch => batch(&mut ctx, req),
        Route::Presences => presences(&mut ctx, &grant, req),
        Route::Users => list_users(&ctx, &grant, req, &params),
        Route::User(who) => get_user(&ctx, &grant, &who, &params),
        Route::Presence(who) => one_presence(&ctx, &grant, &who),
        Route::PresenceAction(who, action) => match action {
            PresenceAction::SetPreferred => set_preferred_presence(&mut ctx, &grant, &who, req),
            PresenceAction::ClearPreferred => clear_preferred_presence(&mut ctx, &grant, &who),
            PresenceAction::SetStatusMessage => set_status_message(&mut ctx, &grant, &who, req),
        },
        Route::Manager(who) => manager(&ctx, &grant, &who, &params),
        Route::DirectReports(who) => direct_reports(&ctx, &grant, &who, req, &params),
        Route::People(who) => people(&ctx, &grant, &who, req, &params),
        Route::MemberOf(who) => member_of(&ctx, &grant, &who, req, &params),
        Route::JoinedTeams(who) => joined_teams(&ctx, &grant, &who),
        Route::PhotoInfo(who) => photo(&ctx, &grant, &who, false),
        Route::Photo(who) => photo(&ctx, &grant, &who, true),
        Route::Group(id) => group(&ctx, &grant, &id),
        Route::GroupMembers(id) => group_members(&ctx, &grant, &id, req, &params),
        Route::Schedule(who) => get_schedule(&ctx, &grant, &who, req),
    };
    let mut resp = result.unwrap_or_else(|e| e);
    if let Some(id) = req
        .headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
    {
        resp.headers
            .push((HeaderName::from_static("client-request-id"), id.to_owned()));
    }
    resp
}

type Handled = Result<GraphResponse, GraphResponse>;

fn authenticate(ctx: &Ctx<'_>, headers: &HeaderMap) -> Result<Grant, GraphResponse> {
    let challenge = format!(
        "Bearer realm=\"\", authorization_uri=\"{}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
        ctx.shared.base_url
    );
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(
            error(401, "InvalidAuthenticationToken", "Access token is empty.")
                .with_header(header::WWW_AUTHENTICATE, challenge),
        );
    };
    ctx.st.auth.check(token, ctx.now).cloned().ok_or_else(|| {
        error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        )
        .with_header(header::WWW_AUTHENTICATE, challenge)
    })
}

fn require(grant: &Grant, wanted: &Permissions) -> Result<(), GraphResponse> {
    if wanted.allow(grant) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// Graph's answer to `/me` with an app's own token, which is nobody.
fn me_is_delegated() -> GraphResponse {
    error(
        400,
        "BadRequest",
        "/me request is only valid with delegated authentication flow.",
    )
}

/// The directory index of `who`; 404 when nobody has that id or UPN.
fn resolve(ctx: &Ctx<'_>, grant: &Grant, who: &Who) -> Result<usize, GraphResponse> {
    match who {
        Who::Me => grant.user.ok_or_else(me_is_delegated),
        Who::User(key) => ctx.shared.directory.find(key).ok_or_else(|| not_found(key)),
    }
}

/// Checks the permission for reading `who`: `own` suffices for oneself
/// (a person's token only: an app is nobody).
fn require_for(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    own: &Permissions,
    others: &Permissions,
) -> Result<usize, GraphResponse> {
    let is_me = match who {
        Who::Me => true,
        Who::User(key) => grant.user.is_some() && ctx.shared.directory.find(key) == grant.user,
    };
    require(grant, if is_me { own } else { others })?;
    resolve(ctx, grant, who)
}

/// The request's JSON object, or Graph's answer to an unreadable body.
fn json_body(req: &GraphRequest<'_>) -> Result<Map<String, Value>, GraphResponse> {
    if !has_json_content_type(req.headers) {
        return Err(unreadable_body());
    }
    match serde_json::from_slice(req.body) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(unreadable_body()),
    }
}

fn bad_request(message: impl Into<String>) -> GraphResponse {
    error(400, "BadRequest", message)
}

fn has_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

/// The `Retry-Attempt` header Microsoft's SDK retry handler sends.
pub(crate) fn retry_attempt(headers: &HeaderMap) -> Option<u32> {
    headers
        .get("retry-attempt")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}
