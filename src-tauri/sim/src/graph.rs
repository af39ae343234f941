//! Microsoft Graph (`/v1.0/...`): routing, permissions and the resources.
//!
//! Requests are handled synchronously on a locked [`State`], one function per
//! resource. The same [`handle`] serves a request from the network and a
//! request carried inside `$batch`, so both behave alike, throttling included.

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

/// Most ids `getPresencesByUserId` takes in one request.
pub const MAX_PRESENCE_IDS: usize = 650;
/// Most requests one `$batch` may carry.
pub const MAX_BATCH_REQUESTS: usize = 20;

pub(crate) const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

// Permissions that satisfy each kind of request, least privileged first.
const PRESENCE_ALL: &[&str] = &["Presence.Read.All"];
const PRESENCE_ME: &[&str] = &["Presence.Read", "Presence.ReadWrite", "Presence.Read.All"];
const USER_ME: &[&str] = &[
    "User.Read",
    "User.ReadWrite",
    "User.ReadBasic.All",
    "User.Read.All",
    "Directory.Read.All",
];
const USERS: &[&str] = &["User.ReadBasic.All", "User.Read.All", "Directory.Read.All"];
const PEOPLE_ME: &[&str] = &["People.Read", "People.Read.All"];
const PEOPLE_OTHERS: &[&str] = &["People.Read.All"];
const GROUP_MEMBERS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
];
const TEAMS: &[&str] = &[
    "Team.ReadBasic.All",
    "Group.Read.All",
    "Directory.Read.All",
    "User.Read.All",
];

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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Route {
    Batch,
    Presences,
    Users,
    User(Who),
    Presence(Who),
    Manager(Who),
    DirectReports(Who),
    People(Who),
    MemberOf(Who),
    JoinedTeams(Who),
    PhotoInfo(Who),
    Photo(Who),
    Group(String),
    GroupMembers(String),
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
            ["manager"] => (Method::GET, Route::Manager(w)),
            ["directReports"] => (Method::GET, Route::DirectReports(w)),
            ["people"] => (Method::GET, Route::People(w)),
            ["memberOf"] => (Method::GET, Route::MemberOf(w)),
            ["joinedTeams"] => (Method::GET, Route::JoinedTeams(w)),
            ["photo"] => (Method::GET, Route::PhotoInfo(w)),
            ["photo", "$value"] => (Method::GET, Route::Photo(w)),
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
        Route::Manager(who) => manager(&ctx, &grant, &who, &params),
        Route::DirectReports(who) => direct_reports(&ctx, &grant, &who, req, &params),
        Route::People(who) => people(&ctx, &grant, &who, req, &params),
        Route::MemberOf(who) => member_of(&ctx, &grant, &who, req, &params),
        Route::JoinedTeams(who) => joined_teams(&ctx, &grant, &who),
        Route::PhotoInfo(who) => photo(&ctx, &grant, &who, false),
        Route::Photo(who) => photo(&ctx, &grant, &who, true),
        Route::Group(id) => group(&ctx, &grant, &id),
        Route::GroupMembers(id) => group_members(&ctx, &grant, &id, req, &params),
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

fn require(grant: &Grant, wanted: &[&str]) -> Result<(), GraphResponse> {
    if grant.has_any(wanted) {
        Ok(())
    } else {
        Err(forbidden())
    }
}

/// The directory index of `who`; 404 when nobody has that id or UPN.
fn resolve(ctx: &Ctx<'_>, grant: &Grant, who: &Who) -> Result<usize, GraphResponse> {
    match who {
        Who::Me => Ok(grant.user),
        Who::User(key) => ctx.shared.directory.find(key).ok_or_else(|| not_found(key)),
    }
}

/// Checks the permission for reading `who`: `own` suffices for oneself.
fn require_for(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    own: &[&str],
    others: &[&str],
) -> Result<usize, GraphResponse> {
    let is_me = match who {
        Who::Me => true,
        Who::User(key) => ctx.shared.directory.find(key) == Some(grant.user),
    };
    require(grant, if is_me { own } else { others })?;
    resolve(ctx, grant, who)
}

fn has_json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

// ------------------------------------------------------------- presence

fn presences(ctx: &mut Ctx<'_>, grant: &Grant, req: &GraphRequest<'_>) -> Handled {
    let parsed: Option<Value> = serde_json::from_slice(req.body).ok();
    let ids: Option<Vec<String>> = parsed
        .as_ref()
        .and_then(|v| v.get("ids"))
        .and_then(Value::as_array)
        .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
    let detail = LogDetail {
        ids: ids.clone(),
        grant_type: None,
    };
    let with_detail = |mut r: GraphResponse| {
        r.detail = Box::new(detail.clone());
        r
    };
    if !ctx.st.presence_available {
        return Err(with_detail(presence_missing("getPresencesByUserId")));
    }
    // Every request that reaches the service counts against the budget,
    // including the ones it refuses.
    if let Err(wait) = ctx.st.throttle.admit(ctx.now) {
        let seconds = retry_after_seconds(wait);
        return Err(with_detail(
            error(
                429,
                "TooManyRequests",
                "Too many requests. Retry after the time given in the Retry-After header.",
            )
            .with_header(header::RETRY_AFTER, seconds.to_string()),
        ));
    }
    require(grant, PRESENCE_ALL).map_err(with_detail)?;
    if !has_json_content_type(req.headers) || parsed.is_none() {
        return Err(with_detail(unreadable_body()));
    }
    let Some(ids) = ids else {
        return Err(with_detail(error(
            400,
            "BadRequest",
            "The request body must be {\"ids\": [\"<user object id>\", ...]}.",
        )));
    };
    if ids.is_empty() {
        return Err(with_detail(error(
            400,
            "BadRequest",
            "The list of ids must not be empty.",
        )));
    }
    if ids.len() > MAX_PRESENCE_IDS {
        // Graph answers this one with a bare 400: no error body at all.
        return Err(with_detail(GraphResponse {
            status: 400,
            body: Body::Empty,
            ..GraphResponse::json(400, Value::Null)
        }));
    }
    if let Some(bad) = ids.iter().find(|id| !is_guid(id)) {
        return Err(with_detail(error(
            400,
            "BadRequest",
            format!("Invalid user id '{bad}' in ids: every id must be a user object id (a GUID)."),
        )));
    }
    // Duplicates are answered once; a well-formed id nobody has is left out of
    // `value` (what Graph does there is undocumented; this is the sim's choice).
    let directory = &ctx.shared.directory;
    let mut seen = std::collections::HashSet::new();
    let value: Vec<Value> = ids
        .iter()
        .filter(|id| seen.insert(id.to_lowercase()))
        .filter_map(|id| directory.find_id(id))
        .map(|i| ctx.st.presence.graph_json(i, &directory.users[i].id))
        .collect();
    Ok(with_detail(GraphResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#Collection(microsoft.graph.presence)", ctx.shared.base_url),
        "value": value,
    }))))
}

fn one_presence(ctx: &Ctx<'_>, grant: &Grant, who: &Who) -> Handled {
    if !ctx.st.presence_available {
        return Err(presence_missing("presence"));
    }
    let i = require_for(ctx, grant, who, PRESENCE_ME, PRESENCE_ALL)?;
    let id = &ctx.shared.directory.users[i].id;
    let mut body = ctx.st.presence.graph_json(i, id);
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#users('{id}')/presence/$entity",
        ctx.shared.base_url
    ));
    Ok(GraphResponse::ok(body))
}

// ------------------------------------------------------------- directory

fn company_name(domain: &str) -> String {
    let first = domain.split('.').next().unwrap_or(domain);
    let mut chars = first.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A user as Graph shows it, with the selected properties.
fn user_json(ctx: &Ctx<'_>, i: usize, select: &[&str], typed: bool) -> Map<String, Value> {
    let u = &ctx.shared.directory.users[i];
    let mut m = Map::new();
    if typed {
        m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    }
    for &p in select {
        let v = match p {
            "id" => json!(u.id),
            "displayName" => json!(u.display_name),
            "givenName" => json!(u.given_name),
            "surname" => json!(u.surname),
            "userPrincipalName" => json!(u.user_principal_name),
            "mail" => json!(u.mail),
            "jobTitle" => json!(u.job_title),
            "officeLocation" => json!(u.office_location),
            "businessPhones" => json!(u.business_phones),
            "mobilePhone" => json!(u.mobile_phone),
            "preferredLanguage" => json!(u.preferred_language),
            "department" => json!(u.department),
            "companyName" => json!(company_name(&ctx.shared.config.tenant_domain)),
            "city" => json!((u.office_location != "Remote").then_some(&u.office_location)),
            "accountEnabled" => json!(true),
            "userType" => json!("Member"),
            "mailNickname" => json!(u.user_principal_name.split('@').next()),
            _ => Value::Null,
        };
        m.insert(p.to_owned(), v);
    }
    m
}

fn entity_context(ctx: &Ctx<'_>, set: &str, select: &[&str], params: &Params) -> String {
    match params.get("$select") {
        Some(_) => format!(
            "{}/v1.0/$metadata#{set}({})/$entity",
            ctx.shared.base_url,
            select.join(",")
        ),
        None => format!("{}/v1.0/$metadata#{set}/$entity", ctx.shared.base_url),
    }
}

fn get_user(ctx: &Ctx<'_>, grant: &Grant, who: &Who, params: &Params) -> Handled {
    let i = require_for(ctx, grant, who, USER_ME, USERS)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(entity_context(ctx, "users", &select, params)),
    );
    body.extend(user_json(ctx, i, &select, false));
    Ok(GraphResponse::ok(Value::Object(body)))
}

/// A list to answer in pages.
struct Listing<'a> {
    items: &'a [usize],
    page_size: usize,
    /// What `@odata.context` names after `$metadata#`.
    context: &'a str,
    /// Whether to send `@odata.count`.
    count: bool,
}

/// One page of a list: `@odata.nextLink` carries the rest of the query and a
/// `$skiptoken` for the next page.
fn page(
    ctx: &Ctx<'_>,
    req: &GraphRequest<'_>,
    params: &Params,
    list: Listing<'_>,
    render: impl Fn(usize) -> Value,
) -> Handled {
    let Listing {
        items,
        page_size,
        context,
        count,
    } = list;
    let offset = query::skip_offset(params).map_err(query_error)?;
    let end = (offset + page_size).min(items.len());
    let value: Vec<Value> = items
        .get(offset..end)
        .unwrap_or_default()
        .iter()
        .map(|&i| render(i))
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!("{}/v1.0/$metadata#{context}", ctx.shared.base_url)),
    );
    if count {
        body.insert("@odata.count".into(), json!(items.len()));
    }
    if end < items.len() {
        let link = format!(
            "{}/v1.0{}?{}",
            ctx.shared.base_url,
            req.path,
            params.with("$skiptoken", &query::skiptoken(end))
        );
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(value));
    Ok(GraphResponse::ok(Value::Object(body)))
}

fn eventual_consistency(headers: &HeaderMap) -> bool {
    headers
        .get("consistencylevel")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("eventual"))
}

fn wants_count(params: &Params, headers: &HeaderMap) -> Result<bool, GraphResponse> {
    match params.get("$count") {
        None => Ok(false),
        Some(c) if c.eq_ignore_ascii_case("false") => Ok(false),
        Some(c) if c.eq_ignore_ascii_case("true") => {
            if eventual_consistency(headers) {
                Ok(true)
            } else {
                Err(error(
                    400,
                    "Request_BadRequest",
                    "$count is only supported with the header 'ConsistencyLevel: eventual'.",
                ))
            }
        }
        Some(c) => Err(error(
            400,
            "Request_BadRequest",
            format!("Invalid value '{c}' for $count."),
        )),
    }
}

fn list_users(ctx: &Ctx<'_>, grant: &Grant, req: &GraphRequest<'_>, params: &Params) -> Handled {
    require(grant, USERS)?;
    let search = match params.get("$search") {
        None => None,
        Some(_) if !eventual_consistency(req.headers) => {
            return Err(error(
                400,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
            ))
        }
        Some(text) => Some(Search::parse(text).map_err(query_error)?),
    };
    let filter = params
        .get("$filter")
        .map(Filter::parse)
        .transpose()
        .map_err(query_error)?;
    let count = wants_count(params, req.headers)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let order = query::order_by(params).map_err(query_error)?;
    let users = &ctx.shared.directory.users;
    let mut found: Vec<usize> = (0..users.len())
        .filter(|&i| filter.as_ref().is_none_or(|f| f.matches(&users[i])))
        .filter(|&i| search.as_ref().is_none_or(|s| s.matches(&users[i])))
        .collect();
    if let Some((prop, descending)) = order {
        found.sort_by_cached_key(|&i| query::sort_key(&users[i], prop));
        if descending {
            found.reverse();
        }
    }
    let context = if params.get("$select").is_some() {
        format!("users({})", select.join(","))
    } else {
        "users".to_owned()
    };
    let list = Listing {
        items: &found,
        page_size: size,
        context: &context,
        count,
    };
    page(ctx, req, params, list, |i| {
        Value::Object(user_json(ctx, i, &select, false))
    })
}

fn manager(ctx: &Ctx<'_>, grant: &Grant, who: &Who, params: &Params) -> Handled {
    require(grant, USERS)?;
    let i = resolve(ctx, grant, who)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let Some(m) = ctx.shared.directory.manager[i] else {
        return Err(not_found("manager"));
    };
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#directoryObjects/$entity",
            ctx.shared.base_url
        )),
    );
    body.extend(user_json(ctx, m, &select, true));
    Ok(GraphResponse::ok(Value::Object(body)))
}

fn direct_reports(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    require(grant, USERS)?;
    let i = resolve(ctx, grant, who)?;
    let select = query::user_selection(params).map_err(query_error)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let reports = &ctx.shared.directory.reports[i];
    let list = Listing {
        items: reports,
        page_size: size,
        context: "directoryObjects",
        count: false,
    };
    page(ctx, req, params, list, |r| {
        Value::Object(user_json(ctx, r, &select, true))
    })
}

fn people(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    let i = require_for(ctx, grant, who, PEOPLE_ME, PEOPLE_OTHERS)?;
    let size = query::top(params, 10, 1000).map_err(query_error)?;
    let skip = match params.get("$skip") {
        None => 0,
        Some(s) => s
            .trim()
            .parse::<usize>()
            .map_err(|_| error(400, "BadRequest", format!("Invalid $skip value '{s}'.")))?,
    };
    let directory = &ctx.shared.directory;
    let ranked = directory.people_for(i);
    let end = (skip + size).min(ranked.len());
    let value: Vec<Value> = ranked
        .get(skip..end)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(n, &p)| {
            let u = &directory.users[p];
            // Scores fall with rank, as the People API's do; only the order matters.
            let score = (30.0 - 0.25 * (skip + n) as f64).max(1.0);
            json!({
                "id": u.id,
                "displayName": u.display_name,
                "givenName": u.given_name,
                "surname": u.surname,
                "birthday": "",
                "personNotes": "",
                "isFavorite": false,
                "jobTitle": u.job_title,
                "companyName": company_name(&ctx.shared.config.tenant_domain),
                "yomiCompany": "",
                "department": u.department,
                "officeLocation": u.office_location,
                "profession": "",
                "userPrincipalName": u.user_principal_name,
                "imAddress": format!("sip:{}", u.user_principal_name),
                "scoredEmailAddresses": [{
                    "address": u.mail,
                    "relevanceScore": score,
                    "selectionLikelihood": "notSpecified",
                }],
                "phones": u.business_phones.iter().map(|p| json!({"type": "business", "number": p})).collect::<Vec<_>>(),
                "personType": {"class": "Person", "subclass": "OrganizationUser"},
            })
        })
        .collect();
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#users('{}')/people",
            ctx.shared.base_url, directory.users[i].id
        )),
    );
    if end < ranked.len() {
        let link = format!(
            "{}/v1.0{}?{}",
            ctx.shared.base_url,
            req.path,
            params.with("$skip", &end.to_string())
        );
        body.insert("@odata.nextLink".into(), json!(link));
    }
    body.insert("value".into(), Value::Array(value));
    Ok(GraphResponse::ok(Value::Object(body)))
}

fn group_json(ctx: &Ctx<'_>, g: usize, typed: bool) -> Map<String, Value> {
    let group = &ctx.shared.directory.groups[g];
    let mut m = Map::new();
    if typed {
        m.insert("@odata.type".into(), json!("#microsoft.graph.group"));
    }
    let fields = json!({
        "id": group.id,
        "displayName": group.display_name,
        "description": group.description,
        "mail": format!("{}@{}", group.mail_nickname, ctx.shared.config.tenant_domain),
        "mailNickname": group.mail_nickname,
        "mailEnabled": true,
        "securityEnabled": false,
        "groupTypes": ["Unified"],
        "visibility": if group.is_team { "Private" } else { "Public" },
        "resourceProvisioningOptions": if group.is_team { vec!["Team"] } else { vec![] },
        "createdDateTime": "2021-03-15T09:00:00Z",
    });
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    m
}

fn member_of(
    ctx: &Ctx<'_>,
    grant: &Grant,
    who: &Who,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    require(grant, GROUP_MEMBERS)?;
    let i = resolve(ctx, grant, who)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let groups = &ctx.shared.directory.member_of[i];
    let list = Listing {
        items: groups,
        page_size: size,
        context: "directoryObjects",
        count: false,
    };
    page(ctx, req, params, list, |g| {
        Value::Object(group_json(ctx, g, true))
    })
}

fn joined_teams(ctx: &Ctx<'_>, grant: &Grant, who: &Who) -> Handled {
    require(grant, TEAMS)?;
    let i = resolve(ctx, grant, who)?;
    let directory = &ctx.shared.directory;
    let value: Vec<Value> = directory.member_of[i]
        .iter()
        .map(|&g| &directory.groups[g])
        .filter(|g| g.is_team)
        .map(|g| {
            json!({
                "id": g.id,
                "displayName": g.display_name,
                "description": g.description,
                "isArchived": false,
                "tenantId": ctx.shared.config.tenant_id.to_string(),
            })
        })
        .collect();
    Ok(GraphResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#teams", ctx.shared.base_url),
        "@odata.count": value.len(),
        "value": value,
    })))
}

fn group(ctx: &Ctx<'_>, grant: &Grant, id: &str) -> Handled {
    require(grant, GROUP_MEMBERS)?;
    let g = ctx
        .shared
        .directory
        .find_group(id)
        .ok_or_else(|| not_found(id))?;
    let mut body = Map::new();
    body.insert(
        "@odata.context".into(),
        json!(format!(
            "{}/v1.0/$metadata#groups/$entity",
            ctx.shared.base_url
        )),
    );
    body.extend(group_json(ctx, g, false));
    Ok(GraphResponse::ok(Value::Object(body)))
}

fn group_members(
    ctx: &Ctx<'_>,
    grant: &Grant,
    id: &str,
    req: &GraphRequest<'_>,
    params: &Params,
) -> Handled {
    require(grant, GROUP_MEMBERS)?;
    let g = ctx
        .shared
        .directory
        .find_group(id)
        .ok_or_else(|| not_found(id))?;
    let select = query::user_selection(params).map_err(query_error)?;
    let size = query::top(params, 100, 999).map_err(query_error)?;
    let count = wants_count(params, req.headers)?;
    let members = &ctx.shared.directory.groups[g].members;
    let list = Listing {
        items: members,
        page_size: size,
        context: "directoryObjects",
        count,
    };
    page(ctx, req, params, list, |m| {
        Value::Object(user_json(ctx, m, &select, true))
    })
}

/// Side of the square profile photos, in pixels.
const PHOTO_SIZE: u32 = 96;

fn photo(ctx: &Ctx<'_>, grant: &Grant, who: &Who, bytes: bool) -> Handled {
    let i = require_for(ctx, grant, who, USER_ME, USERS)?;
    if !ctx.shared.directory.users[i].has_photo {
        return Err(error(
            404,
            "ImageNotFound",
            "Exception of type 'Microsoft.Fast.Profile.Core.Exception.ImageNotFoundException' was thrown.",
        ));
    }
    if bytes {
        let hue = (mix(ctx.shared.config.seed ^ i as u64) % 360) as u32;
        let mut picture = png::portrait(hue, PHOTO_SIZE);
        if let Some(&size) = ctx.st.photo_sizes.get(&i) {
            picture.resize(size.max(picture.len()), 0);
        }
        let mut resp = GraphResponse::ok(Value::Null);
        resp.body = Body::Png(picture);
        return Ok(resp);
    }
    Ok(GraphResponse::ok(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users('{}')/photo/$entity", ctx.shared.base_url, ctx.shared.directory.users[i].id),
        "@odata.mediaContentType": "image/png",
        "id": format!("{PHOTO_SIZE}X{PHOTO_SIZE}"),
        "height": PHOTO_SIZE,
        "width": PHOTO_SIZE,
    })))
}

// ------------------------------------------------------------- $batch

fn batch(ctx: &mut Ctx<'_>, req: &GraphRequest<'_>) -> Handled {
    if !has_json_content_type(req.headers) {
        return Err(unreadable_body());
    }
    let parsed: Value = serde_json::from_slice(req.body).map_err(|_| unreadable_body())?;
    let Some(requests) = parsed.get("requests").and_then(Value::as_array) else {
        return Err(error(
            400,
            "BadRequest",
            "Invalid batch payload format: a 'requests' array is required.",
        ));
    };
    if requests.is_empty() {
        return Err(error(
            400,
            "BadRequest",
            "Invalid batch payload format: the batch has no requests.",
        ));
    }
    if requests.len() > MAX_BATCH_REQUESTS {
        return Err(error(
            400,
            "BadRequest",
            format!(
                "Number of batch requests {} exceeds the limit of {MAX_BATCH_REQUESTS}.",
                requests.len()
            ),
        ));
    }
    struct Sub {
        id: String,
        method: Method,
        path: String,
        query: Option<String>,
        headers: HeaderMap,
        body: Vec<u8>,
    }
    let mut subs: Vec<Sub> = Vec::with_capacity(requests.len());
    for r in requests {
        let field = |name: &str| r.get(name).and_then(Value::as_str);
        let (Some(id), Some(method), Some(url)) = (field("id"), field("method"), field("url"))
        else {
            return Err(error(
                400,
                "BadRequest",
                "Invalid batch payload format: every request needs 'id', 'method' and 'url'.",
            ));
        };
        if subs.iter().any(|s| s.id == id) {
            return Err(error(
                400,
                "BadRequest",
                format!("Invalid batch payload format: request id '{id}' is used twice."),
            ));
        }
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| {
            error(
                400,
                "BadRequest",
                format!("Invalid method '{method}' in request id '{id}'."),
            )
        })?;
        let mut headers = HeaderMap::new();
        if let Some(h) = r.get("headers").and_then(Value::as_object) {
            for (name, value) in h {
                let (Ok(name), Some(Ok(value))) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    value.as_str().map(HeaderValue::from_str),
                ) else {
                    return Err(error(
                        400,
                        "BadRequest",
                        format!("Invalid header '{name}' in request id '{id}'."),
                    ));
                };
                headers.insert(name, value);
            }
        }
        let body = match r.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(b) => {
                if !headers.contains_key(header::CONTENT_TYPE) {
                    return Err(error(
                        400,
                        "BadRequest",
                        format!(
                            "Write request id : {id} does not contain Content-Type header or body."
                        ),
                    ));
                }
                match b {
                    Value::String(s) if !has_json_content_type(&headers) => s.as_bytes().to_vec(),
                    other => serde_json::to_vec(other).unwrap_or_default(),
                }
            }
        };
        // The outer request's credentials carry over, as in Graph.
        if let Some(auth) = req.headers.get(header::AUTHORIZATION) {
            headers.insert(header::AUTHORIZATION, auth.clone());
        }
        let relative = if url.starts_with('/') {
            url.to_owned()
        } else {
            format!("/{url}")
        };
        let (path, query) = match relative.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (relative, None),
        };
        subs.push(Sub {
            id: id.to_owned(),
            method,
            path,
            query,
            headers,
            body,
        });
    }

    let mut responses = Vec::with_capacity(subs.len());
    let mut inner = Vec::with_capacity(subs.len());
    for sub in &subs {
        let sub_req = GraphRequest {
            method: &sub.method,
            path: &sub.path,
            query: sub.query.as_deref(),
            headers: &sub.headers,
            body: &sub.body,
        };
        let resp = handle(ctx.shared, ctx.st, &sub_req, ctx.now, ctx.arrived, true);
        let mut headers = Map::new();
        if let Some(ct) = resp.content_type() {
            headers.insert("Content-Type".into(), json!(ct));
        }
        for (name, value) in &resp.headers {
            headers.insert(canonical_header(name), json!(value));
        }
        let mut entry = json!({"id": sub.id, "status": resp.status, "headers": headers});
        match &resp.body {
            Body::Json(v) => entry["body"] = v.clone(),
            // Binary bodies travel base64-encoded inside a batch answer.
            Body::Png(bytes) => entry["body"] = json!(STANDARD.encode(bytes)),
            Body::Empty => {}
        }
        responses.push(entry);
        inner.push((
            Arrival {
                at: ctx.arrived,
                method: sub.method.to_string(),
                path: format!("/v1.0{}", sub.path),
                query: sub.query.clone(),
                retry_attempt: retry_attempt(&sub.headers),
                in_batch: true,
            },
            resp.status,
            *resp.detail,
        ));
    }
    let mut resp = GraphResponse::ok(json!({ "responses": responses }));
    resp.inner = inner;
    Ok(resp)
}

fn canonical_header(name: &HeaderName) -> String {
    match *name {
        header::RETRY_AFTER => "Retry-After".to_owned(),
        header::WWW_AUTHENTICATE => "WWW-Authenticate".to_owned(),
        _ => name.as_str().to_owned(),
    }
}

/// The `Retry-Attempt` header Microsoft's SDK retry handler sends.
pub(crate) fn retry_attempt(headers: &HeaderMap) -> Option<u32> {
    headers
        .get("retry-attempt")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}
